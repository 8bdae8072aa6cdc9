/**
 * Real PostgreSQL, Kafka and ZooKeeper on 127.0.0.1 for the demo and the integration tests:
 * {@link io.pgrelay.sandbox.Sandbox} starts them once per JVM, {@link io.pgrelay.sandbox.SandboxExtension}
 * hands them to JUnit. The rest is by role, each depending only on those above it:
 * {@code server} (the servers), {@code cluster} (agent and dashboard processes), {@code demo}
 * (demo, failover drill, load and verdicts), {@code bench} (the benchmark).
 */
package io.pgrelay.sandbox;
