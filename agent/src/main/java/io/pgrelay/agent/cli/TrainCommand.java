package io.pgrelay.agent.cli;

import io.pgrelay.agent.config.ConfigLoader;
import io.pgrelay.agent.config.PgRelayConfig;
import io.pgrelay.agent.leader.Training;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "train", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Run what an agent runs, without any server, for a JVM that records it: a JDK 25 AOT cache"
                + " (java -XX:AOTCacheOutput=pgrelay.aot -jar pgrelay-agent.jar train) or a CDS archive"
                + " (-XX:ArchiveClassesAtExit). Loads the Kafka, PostgreSQL, HTTP and ZooKeeper clients and runs the"
                + " per-event path in every format over a synthetic stream. Needs no configuration; exit status 0.")
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--transactions", paramLabel = "N", description = "synthetic transactions of 10 events per format"
            + " (default: 10000; four formats, ~10–20 s on 2 cores)")
    private int transactions = 10_000;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        List<PgRelayConfig> formats = List.of("", ", format: debezium", ", format: debezium, serialization: json-schema",
                        ", format: debezium, serialization: avro, schemaRegistry: { url: 'http://127.0.0.1:9' }").stream()
                .map(TrainCommand::config).toList();
        Training.run(formats, transactions).forEach(spec.commandLine().getOut()::println);
        spec.commandLine().getOut().flush();
        return Main.EXIT_OK;
    }

    private static PgRelayConfig config(String kafka) {
        return new ConfigLoader(Map.<String, String>of()::get, () -> "train").parse(
                "cluster: train\nagent: { id: train }\n"
                        + "postgres: { url: 'jdbc:postgresql://127.0.0.1:9/train', user: train, tls: { mode: disable } }\n"
                        + "kafka: { bootstrapServers: '127.0.0.1:9'" + kafka + " }\n", "train.yaml");
    }
}
