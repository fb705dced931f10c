"""newsclf's Python test library, imported by every suite under tests/
(each script puts tests/lib on sys.path first; ctest runs them by path).

  checks      Fail, Skip, check(), poll() with a deadline, log()
  testenv     arguments, skip rules (exit 77), the scratch Env, main()
  mockbroker  newsclf-mockbroker in its own process
  cluster     real Apache Kafka through scripts/kafka
  load        bench/pipeline_load: produce, consume, count, commit, offsets
  dump        decoding pipeline_load's --dump records
  daemon      the newsclfd process; the default topics; reload configs
  corpus      models/corpus input and `newsclf classify` as the reference
  prom        samples of the daemon's /metrics text
  e2e         the end-to-end scenario of daemon_e2e and kafka_daemon_e2e
  rss         VmRSS from /proc: a reading, a sampler with phases, sanitized builds

tests/README.md says how to run and add a test.
"""
