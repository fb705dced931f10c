/*
 * kafka.h - the `newsclf` subcommands that talk to Kafka: subscribe (a
 * human-friendly tail of labeled topics) and reclassify (re-label a range of
 * the input topics with a separate consumer group). Kept apart from main.c so
 * the classifier core stays free of Kafka.
 */
#ifndef NC_CLI_KAFKA_H
#define NC_CLI_KAFKA_H

/* argv[0] is the subcommand name. Exit codes: 0 ok, 1 runtime, 2 usage. */
int nc_cli_subscribe(int argc, char **argv);
int nc_cli_reclassify(int argc, char **argv);

#endif
