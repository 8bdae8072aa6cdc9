/** Real PostgreSQL, Kafka and ZooKeeper on 127.0.0.1 for the demo and the integration tests. */
package io.pgrelay.sandbox;
