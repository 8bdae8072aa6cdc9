/** The servers, each a real process on 127.0.0.1: PostgreSQL (and a primary/standby pair), Kafka (and a three-broker cluster), ZooKeeper (and an ensemble), Prometheus; plus ports, directories and a topic reader. */
package io.pgrelay.sandbox.server;
