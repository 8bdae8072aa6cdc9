/**
 * The servers, each a real process on 127.0.0.1: PostgreSQL (and a primary/standby pair), Kafka (and a three-broker
 * cluster), ZooKeeper (and an ensemble), Prometheus; plus ports, directories, a topic reader, and {@link
 * io.pgrelay.sandbox.server.FaultProxy}, a TCP relay that drops, blackholes or delays one client's connections to
 * one server (a network partition).
 */
package io.pgrelay.sandbox.server;
