package io.pgrelay.agent.config;

import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.route.TopicNames;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Finds two writers of one topic: two tables whose names sanitize to the same topic, or a table
 * topic that is also the checkpoints, dead-letter or schema topic. Kafka also refuses to create a topic
 * that differs from an existing one only by '.' versus '_' (they collide in its metric names), so
 * such a pair is reported too. Only known tables can be checked here; with {@code FOR ALL TABLES}
 * the router meets the others at run time.
 */
final class TopicCollisions {

    private record Owner(String who, String topic) {
    }

    private TopicCollisions() {
    }

    /** {@code paths}: where each table is configured, its mapping in kafka.topics if any, else its postgres.tables entry. */
    static void report(KafkaConfig kafka, PostgresConfig postgres, Map<TableId, String> paths,
                       BiConsumer<String, String> problem) {
        Map<String, Owner> owners = new LinkedHashMap<>();
        claim(owners, kafka.checkpointTopic(), "kafka.checkpointTopic");
        Owner other = claim(owners, kafka.deadLetterTopic(), "kafka.deadLetterTopic");
        if (other != null) {
            problem.accept("kafka.deadLetterTopic", clash(other, "kafka.deadLetterTopic", kafka.deadLetterTopic()));
        }
        other = claim(owners, kafka.schemaTopic(), "kafka.schemaTopic");
        if (other != null) {
            problem.accept("kafka.schemaTopic", clash(other, "kafka.schemaTopic", kafka.schemaTopic()));
        }
        Set<TableId> tables = new LinkedHashSet<>(postgres.tables());
        tables.addAll(kafka.topics().keySet());
        TopicNames names = kafka.topicNames();
        for (TableId table : tables) {
            String topic = names.topicFor(table);
            String path = paths.get(table);
            String reason = names.isMapped(table) ? null : TopicNames.invalidReason(topic);
            if (reason != null) {
                problem.accept(path, "table " + table + ": " + reason + "; map it in kafka.topics");
                continue;
            }
            Owner owner = claim(owners, topic, "table " + table);
            if (owner != null) {
                problem.accept(path, clash(owner, "table " + table, topic) + "; map one of them to another topic in kafka.topics");
            }
        }
    }

    private static Owner claim(Map<String, Owner> owners, String topic, String who) {
        return owners.putIfAbsent(topic.replace('.', '_'), new Owner(who, topic));
    }

    private static String clash(Owner first, String second, String topic) {
        if (first.topic().equals(topic)) {
            return first.who() + " and " + second + " would both write to topic " + topic;
        }
        return first.who() + " and " + second + " would write to topics " + first.topic() + " and " + topic
                + ", which Kafka refuses side by side ('.' and '_' collide in its metric names)";
    }
}
