package io.pgrelay.agent.cli;

import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.core.Finding;
import io.pgrelay.agent.postgres.DdlTrigger;
import io.pgrelay.agent.postgres.PgConnectException;
import io.pgrelay.agent.postgres.PgConnections;
import io.pgrelay.agent.postgres.Preflight;
import io.pgrelay.agent.postgres.ReplicationSetup;
import io.pgrelay.agent.checkpoint.Checkpoint;
import io.pgrelay.agent.checkpoint.CheckpointReader;
import io.pgrelay.agent.kafka.KafkaClients;
import io.pgrelay.agent.postgres.SlotAdmin;
import io.pgrelay.agent.slot.SlotCheck;
import io.pgrelay.agent.slot.SlotCreation;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "init", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Check PostgreSQL's settings, then create the publication and the slot when missing"
                + " (never a slot the cluster streamed from before: see --resnapshot).")
final class InitCommand extends ConfiguredCommand {

    @Option(names = "--ddl", description = "also install an event trigger that puts each DDL statement into the stream"
            + " (needs a superuser); its events go to kafka.schemaTopic")
    boolean ddl;

    @Option(names = "--resnapshot", description = "drop the slot (when there is one and it is not in use), create it anew and"
            + " queue a snapshot of every published table, after a truncate event marked \"resnapshot\" on each table's topic:"
            + " the way out after the cluster's slot was lost")
    boolean resnapshot;

    @Override
    int run(PgRelayConfig config) throws Exception {
        PgConnections connections = PgConnections.of(config);
        try (Connection c = connections.open()) {
            List<Finding> failed = new Preflight(PgConnections.of(config), config.postgres()).run(c).stream()
                    .filter(Finding::failed).toList();
            if (!failed.isEmpty()) {
                failed.forEach(f -> err().println(f.message()));
                err().println("init: " + failed.size() + (failed.size() == 1 ? " problem" : " problems") + "; nothing was created");
                return Main.EXIT_FAILURE;
            }
            if (ddl) {
                // First, so that nothing is created when the role may not create the trigger.
                new DdlTrigger(config.cluster(), config.postgres().slot()).ensure(c).forEach(out()::println);
            }
            String slot = config.postgres().slot();
            Optional<Checkpoint> checkpoint;
            try {
                checkpoint = CheckpointReader.latest(
                        KafkaClients.config(config.kafka(), "pgrelay-" + config.agent().id()),
                        config.kafka().checkpointTopic(), config.cluster(), Duration.ofSeconds(30));
            } catch (RuntimeException e) {
                err().println("init: cannot read the cluster's checkpoint from Kafka (" + e.getMessage() + "); init needs it to"
                        + " tell a new cluster from one whose slot was lost; the publication and slot were not created");
                return Main.EXIT_FAILURE;
            }
            List<String> done = new ArrayList<>(new ReplicationSetup(config.postgres()).ensurePublication(c));
            done.forEach(out()::println);
            SlotCreation creation = new SlotCreation(config, connections);
            if (resnapshot) {
                SlotCreation.Recreated r = creation.recreate(checkpoint);
                out().println((r.dropped() ? "dropped and created slot " : "created slot ") + slot + "; changes committed after "
                        + r.origin().consistentPoint() + " will be streamed");
                out().println("queued a snapshot of " + r.tables().size() + " published tables, each after a truncate event"
                        + " marked \"resnapshot\" on its topic");
                return Main.EXIT_OK;
            }
            SlotCheck.Verdict verdict = SlotCheck.judge(slot, checkpoint, new SlotAdmin(c).read(slot));
            if (verdict.refuses()) {
                err().println(verdict.message());
                return Main.EXIT_FAILURE;
            }
            if (verdict.create()) {
                var origin = creation.createForNewCluster();
                out().println(origin.map(o -> "created slot " + slot + " (pgoutput); changes committed after " + o.consistentPoint()
                        + " will be streamed").orElse("slot " + slot + " was created meanwhile by someone else"));
                done.add("slot");
            }
            if (done.isEmpty()) {
                out().println("nothing to do: publication " + config.postgres().publication() + " and slot "
                        + slot + " are in place");
            }
            return Main.EXIT_OK;
        } catch (SlotAdmin.SlotInUseException e) {
            err().println("init: " + e.getMessage());
            return Main.EXIT_FAILURE;
        } catch (PgConnectException | DdlTrigger.NotSuperuserException e) {
            err().println(e.getMessage());
            return Main.EXIT_FAILURE;
        }
    }
}
