package io.pgrelay.agent.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import io.pgrelay.common.EnvSubstitution;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * One mapping of the parsed YAML, read key by key. Every getter records the key as known and
 * reports what is wrong with its value into the shared {@link Problems}, then returns a default so
 * that reading goes on and every problem is found in one pass. {@link #reportUnknownKeys} closes
 * the section.
 */
final class ConfigNode {

    private final String path;
    private final JsonNode node;
    private final Problems problems;
    private final Set<String> known = new LinkedHashSet<>();

    private ConfigNode(String path, JsonNode node, Problems problems) {
        this.path = path;
        this.node = node;
        this.problems = problems;
    }

    static ConfigNode root(JsonNode node, Problems problems) {
        ConfigNode root = new ConfigNode("", node == null || node.isNull() ? MissingNode.getInstance() : node, problems);
        if (!root.node.isMissingNode() && !root.node.isObject()) {
            problems.add("(top level)", "expected a mapping of keys (cluster, agent, postgres, kafka, coordination), got " + kind(root.node));
            return new ConfigNode("", MissingNode.getInstance(), problems);
        }
        return root;
    }

    String pathOf(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    void problem(String key, String message) {
        problems.add(pathOf(key), message);
    }

    /** A problem at a full path, such as an entry's {@code kafka.topics[public.orders]}. */
    void problemAtPath(String path, String message) {
        problems.add(path, message);
    }

    boolean has(String key) {
        JsonNode v = node.get(key);
        return v != null && !v.isNull();
    }

    /** A nested mapping; absent or null reads as empty. */
    ConfigNode section(String key) {
        JsonNode v = value(key);
        if (v != null && !v.isObject()) {
            problem(key, "expected a mapping, got " + kind(v));
            v = null;
        }
        return new ConfigNode(pathOf(key), v == null ? MissingNode.getInstance() : v, problems);
    }

    Optional<String> string(String key) {
        return scalar(pathOf(key), value(key));
    }

    String string(String key, String fallback) {
        return string(key).orElse(fallback);
    }

    /** A required string; null (after reporting) when absent. */
    String requiredString(String key) {
        Optional<String> v = string(key);
        if (v.isEmpty()) {
            problem(key, "required");
        }
        return v.orElse(null);
    }

    Secret secret(String key) {
        return string(key).map(Secret::of).orElse(Secret.EMPTY);
    }

    Duration duration(String key, Duration fallback) {
        return parsed(key, Units::parseDuration, fallback, d -> d.isNegative() || d.isZero() ? "must be longer than 0" : null);
    }

    /**
     * A duration, or {@link Duration#ZERO} for {@code 0} or {@code off}: a feature that can be turned
     * off. YAML 1.1 reads a bare {@code off} as the boolean false, so {@code false} means off too.
     */
    Duration durationOrOff(String key, Duration fallback) {
        return parsed(key, t -> Set.of("0", "off", "false").contains(t.strip().toLowerCase(Locale.ROOT)) ? Duration.ZERO : Units.parseDuration(t),
                fallback, d -> d.isNegative() ? "must not be negative" : null);
    }

    long size(String key, long fallback) {
        return parsed(key, Units::parseSize, fallback, n -> n <= 0 ? "must be at least 1 byte" : null);
    }

    boolean bool(String key, boolean fallback) {
        return parsed(key, s -> switch (s.toLowerCase(Locale.ROOT)) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            default -> throw new IllegalArgumentException("'" + s + "' is not true or false");
        }, fallback, b -> null);
    }

    int integer(String key, int fallback, int min) {
        return parsed(key, s -> {
            try {
                return Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + s + "' is not a whole number");
            }
        }, fallback, n -> n < min ? "must be at least " + min : null);
    }

    /** One of the enum's constants, written in lower case in YAML. */
    <E extends Enum<E>> E choice(String key, Class<E> type, E fallback) {
        return parsed(key, s -> {
            for (E e : type.getEnumConstants()) {
                if (e.name().toLowerCase(Locale.ROOT).equals(s)) {
                    return e;
                }
            }
            List<String> names = new ArrayList<>();
            for (E e : type.getEnumConstants()) {
                names.add(e.name().toLowerCase(Locale.ROOT));
            }
            throw new IllegalArgumentException("'" + s + "' is not one of " + String.join(", ", names));
        }, fallback, e -> null);
    }

    /** One of the enum's constants, written in YAML as {@code name} gives it ({@code json-schema}). */
    <E extends Enum<E>> E choice(String key, Class<E> type, Function<E, String> name, E fallback) {
        return parsed(key, s -> {
            List<String> names = new ArrayList<>();
            for (E e : type.getEnumConstants()) {
                if (name.apply(e).equals(s)) {
                    return e;
                }
                names.add(name.apply(e));
            }
            throw new IllegalArgumentException("'" + s + "' is not one of " + String.join(", ", names));
        }, fallback, e -> null);
    }

    /** A list of strings, each entry's path {@code key[i]}; absent reads as empty. */
    List<Entry> stringList(String key) {
        JsonNode v = value(key);
        List<Entry> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (!v.isArray()) {
            problem(key, "expected a list, got " + kind(v));
            return out;
        }
        for (int i = 0; i < v.size(); i++) {
            String p = pathOf(key) + "[" + i + "]";
            scalar(p, v.get(i)).ifPresentOrElse(s -> out.add(new Entry(p, s)), () -> {
                if (!problems.has(p)) {
                    problems.add(p, "empty entry");
                }
            });
        }
        return out;
    }

    /** A mapping of strings to strings, each entry's path {@code key[name]}; absent reads as empty. */
    Map<String, Entry> stringMap(String key) {
        JsonNode v = value(key);
        Map<String, Entry> out = new LinkedHashMap<>();
        if (v == null) {
            return out;
        }
        if (!v.isObject()) {
            problem(key, "expected a mapping, got " + kind(v));
            return out;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String p = pathOf(key) + "[" + f.getKey() + "]";
            scalar(p, f.getValue()).ifPresentOrElse(s -> out.put(f.getKey(), new Entry(p, s)),
                    () -> problems.add(p, "empty value"));
        }
        return out;
    }

    /** Reports every key of this mapping that no getter asked for, with a "did you mean" when one is close. */
    void reportUnknownKeys() {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!known.contains(key)) {
                String hint = KeyHints.closest(key, known);
                problem(key, "unknown key" + (hint == null ? "" : " (did you mean " + pathOf(hint) + "?)"));
            }
        }
    }

    /** A scalar value read with its path, for the caller's own checks. */
    record Entry(String path, String value) {
    }

    private <T> T parsed(String key, Function<String, T> parser, T fallback, Function<T, String> check) {
        Optional<String> text = string(key);
        if (text.isEmpty()) {
            return fallback;
        }
        try {
            T value = parser.apply(text.get());
            String wrong = check.apply(value);
            if (wrong != null) {
                problem(key, "'" + text.get() + "' " + wrong);
                return fallback;
            }
            return value;
        } catch (IllegalArgumentException e) {
            problem(key, e.getMessage());
            return fallback;
        }
    }

    private JsonNode value(String key) {
        known.add(key);
        JsonNode v = node.get(key);
        return v == null || v.isNull() ? null : v;
    }

    private Optional<String> scalar(String path, JsonNode v) {
        if (v == null || v.isNull()) {
            return Optional.empty();
        }
        if (!v.isValueNode()) {
            problems.add(path, "expected a single value, got " + kind(v));
            return Optional.empty();
        }
        String text = v.asText();
        String unresolved = EnvSubstitution.problemIn(text);
        if (unresolved != null) {
            problems.add(path, unresolved);
            return Optional.empty();
        }
        return text.isEmpty() ? Optional.empty() : Optional.of(text);
    }

    private static String kind(JsonNode v) {
        if (v.isObject()) {
            return "a mapping";
        }
        if (v.isArray()) {
            return "a list";
        }
        return "'" + v.asText() + "'";
    }

    /** The problems of one configuration; at most one per key path, the first found. */
    static final class Problems {
        private final Map<String, Problem> byPath = new LinkedHashMap<>();

        void add(String path, String message) {
            byPath.putIfAbsent(path, new Problem(path, message));
        }

        boolean has(String path) {
            return byPath.containsKey(path);
        }

        List<Problem> list() {
            return List.copyOf(byPath.values());
        }
    }
}
