package io.pgrelay.agent.route;

import io.pgrelay.agent.core.TableId;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Which Kafka topic a table's events go to: the explicit mapping when there is one, else
 * {@code <topicPrefix>.<schema>.<table>} with every character Kafka does not allow in a topic name
 * replaced by {@code _}. Immutable and thread-safe.
 */
public final class TopicNames {

    /** Kafka's own limit on a topic name's length. */
    public static final int MAX_LENGTH = 249;
    private static final Pattern NOT_ALLOWED = Pattern.compile("[^a-zA-Z0-9._-]");
    private static final Pattern ALLOWED = Pattern.compile("[a-zA-Z0-9._-]+");

    private final String prefix;
    private final Map<TableId, String> explicit;

    public TopicNames(String prefix, Map<TableId, String> explicit) {
        this.prefix = prefix;
        this.explicit = Map.copyOf(explicit);
    }

    public String topicFor(TableId table) {
        String mapped = explicit.get(table);
        return mapped != null ? mapped : sanitize(prefix + "." + table.schema() + "." + table.table());
    }

    /** True when the table has an explicit mapping. */
    public boolean isMapped(TableId table) {
        return explicit.containsKey(table);
    }

    /** Replaces every character outside {@code [a-zA-Z0-9._-]} by {@code _}. */
    public static String sanitize(String name) {
        return NOT_ALLOWED.matcher(name).replaceAll("_");
    }

    /** Why Kafka would refuse this topic name, or null when it is a valid name. */
    public static String invalidReason(String topic) {
        if (topic.equals(".") || topic.equals("..")) {
            return "'" + topic + "' is not a valid topic name";
        }
        if (!ALLOWED.matcher(topic).matches()) {
            return "'" + topic + "' is not a valid topic name (only letters, digits, '.', '_' and '-')";
        }
        if (topic.length() > MAX_LENGTH) {
            return "topic name is " + topic.length() + " characters long; Kafka allows " + MAX_LENGTH;
        }
        return null;
    }
}
