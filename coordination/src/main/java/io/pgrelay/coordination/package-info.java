/**
 * Leader election (slot race or ZooKeeper), the fencing epoch, the member registry and handover.
 *
 * <p>The agent supplies a {@link io.pgrelay.coordination.Leader} (what leading does) and this
 * package decides when it runs:
 * <pre>{@code
 * ElectionConfig config = ElectionConfig.builder("demo", "agent-1")
 *         .http("127.0.0.1:8081").slot("pgrelay_demo").postgres(dataSource::getConnection)
 *         .build();                                   // or .zookeeper("127.0.0.1:2181")
 * LeaderElection election = LeaderElection.create(config, term -> pipeline.run(term));
 * election.addListener(metricsListener, Runnable::run);
 * election.start();
 * ...
 * election.handover(Optional.of("agent-2"));         // POST /admin/handover
 * election.close();
 * }</pre>
 *
 * <p>Objects created in PostgreSQL (both modes need a plain connection; slot mode also stores
 * state there): schema {@code pgrelay}; {@code pgrelay.clusters(cluster PK, epoch, leader,
 * handover_to, handover_until)}; {@code pgrelay.members(cluster, id, http, role, epoch,
 * updated_at)}; notification channel {@code pgrelay} (payload: cluster). In ZooKeeper:
 * {@code /pgrelay/<cluster>/leader} (Curator LeaderSelector), {@code /epoch} (decimal text,
 * versioned compare-and-set), {@code /handover} (JSON), {@code /members/<id>} (ephemeral JSON).
 */
package io.pgrelay.coordination;
