/** What a person runs: the demo ({@code SandboxMain}), the failover drill, the load generator and the verdict that checks Kafka against PostgreSQL. */
package io.pgrelay.sandbox.demo;
