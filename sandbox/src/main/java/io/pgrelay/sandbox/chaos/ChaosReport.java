package io.pgrelay.sandbox.chaos;

import io.pgrelay.sandbox.cluster.AgentLog;
import io.pgrelay.sandbox.demo.Verdict;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** The chaos drill's closing words: a Markdown table per kind of fault, and the verdict. */
final class ChaosReport {

    private ChaosReport() {
    }

    /**
     * One row per kind of fault: how many, who noticed (in how many of them the leader of the moment
     * logged a warning, an error or a change of leader, a standby did, a new epoch streamed), and the
     * time to streaming again — from the fault, and from the heal for the faults where streaming
     * waited for it — as min / median / max.
     */
    static String table(List<ChaosDrill.Outcome> outcomes) {
        Map<String, List<ChaosDrill.Outcome>> byKind = new TreeMap<>();
        outcomes.forEach(o -> byKind.computeIfAbsent(o.kind(), k -> new ArrayList<>()).add(o));
        StringBuilder s = new StringBuilder();
        s.append("| fault | n | who noticed | streaming again after the fault, min / median / max | after the heal, when it waited for it |\n");
        s.append("|---|---|---|---|---|\n");
        for (Map.Entry<String, List<ChaosDrill.Outcome>> e : byKind.entrySet()) {
            List<ChaosDrill.Outcome> os = e.getValue();
            int n = os.size();
            long leader = os.stream().filter(o -> o.noticed().stream().anyMatch(l -> l.agent().equals(o.leader()))).count();
            long standby = os.stream().filter(o -> o.noticed().stream().anyMatch(l -> !l.agent().equals(o.leader()))).count();
            long takeovers = os.stream().filter(ChaosDrill.Outcome::tookOver).count();
            long nobody = os.stream().filter(o -> o.noticed().isEmpty()).count();
            List<String> who = new ArrayList<>();
            if (leader > 0) {
                who.add("leader " + leader + "/" + n);
            }
            if (standby > 0) {
                who.add("a standby " + standby + "/" + n);
            }
            if (nobody > 0) {
                who.add("no agent " + nobody + "/" + n);
            }
            who.add("new epoch " + takeovers + "/" + n);
            List<Long> again = os.stream().map(ChaosDrill.Outcome::streamingAgainMillis).filter(t -> t >= 0).sorted().toList();
            List<Long> afterHeal = os.stream().map(ChaosDrill.Outcome::afterHealMillis).filter(t -> t >= 0).sorted().toList();
            long stuck = os.stream().filter(o -> o.streamingAgainMillis() < 0).count();
            s.append("| ").append(e.getKey()).append(" | ").append(n).append(" | ").append(String.join(", ", who))
                    .append(" | ").append(stats(again)).append(stuck > 0 ? "; STUCK " + stuck : "")
                    .append(" | ").append(afterHeal.isEmpty() ? "—" : afterHeal.size() + "×: " + stats(afterHeal)).append(" |\n");
        }
        s.append(firstWords(outcomes));
        return s.toString();
    }

    /** Per kind, the first thing each role said most often: what "who noticed" means in words. */
    private static String firstWords(List<ChaosDrill.Outcome> outcomes) {
        Map<String, Map<String, Integer>> byKind = new TreeMap<>();
        for (ChaosDrill.Outcome o : outcomes) {
            for (AgentLog.Line l : o.noticed()) {
                String role = l.agent().equals(o.leader()) ? "leader" : "standby";
                byKind.computeIfAbsent(o.kind(), k -> new LinkedHashMap<>()).merge(role + ": " + gist(l.message()), 1, Integer::sum);
            }
        }
        StringBuilder s = new StringBuilder("\nwhat they said first (times seen):\n");
        byKind.forEach((kind, said) -> {
            s.append("- ").append(kind).append('\n');
            said.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(4)
                    .forEach(e -> s.append("    ").append(e.getValue()).append("× ").append(e.getKey()).append('\n'));
        });
        return s.toString();
    }

    /** A log message without its numbers and positions, cut short: lines that say the same thing read the same. */
    private static String gist(String message) {
        String g = message.replaceAll("[0-9A-F]+/[0-9A-F]+", "<lsn>").replaceAll("\\d+", "#");
        return g.length() > 140 ? g.substring(0, 140) + "…" : g;
    }

    private static String stats(List<Long> sorted) {
        if (sorted.isEmpty()) {
            return "—";
        }
        long median = sorted.size() % 2 == 1 ? sorted.get(sorted.size() / 2)
                : (sorted.get(sorted.size() / 2 - 1) + sorted.get(sorted.size() / 2)) / 2;
        return String.format("%.2f / %.2f / %.2f s", sorted.get(0) / 1000.0, median / 1000.0, sorted.get(sorted.size() - 1) / 1000.0);
    }

    static String summary(ChaosDrill.Options options, ChaosCluster c, ChaosVerifier v, Verdict verdict,
                          List<ChaosDrill.Outcome> outcomes, List<String> stuck, long seconds) {
        StringBuilder s = new StringBuilder();
        Map<Long, Set<String>> agentsByEpoch = v.agentsByEpoch();
        s.append(String.format("mode %s, seed %d, %d faults in %d s; %d rows inserted, %d updated in %d transactions%n",
                options.mode(), options.seed(), outcomes.size(), seconds, c.load.inserted(), c.load.updated(), c.load.transactions()));
        s.append("epochs and their agents: ").append(agentsByEpoch).append('\n');
        s.append("verdict: ").append(verdict).append('\n');
        v.missingReport().forEach(line -> s.append(line).append('\n'));
        s.append("violations seen while running: ").append(v.violationCount()).append('\n');
        v.violations().forEach(x -> s.append("  ").append(java.time.Instant.ofEpochMilli(x.atMillis())).append(' ')
                .append(x.what()).append(" (during ").append(during(outcomes, x.atMillis())).append(")\n"));
        s.append("stuck: ").append(stuck.isEmpty() ? "never" : String.join("; ", stuck));
        return s.toString();
    }

    /** The fault in progress at {@code millis}: the last one injected before it. */
    private static String during(List<ChaosDrill.Outcome> outcomes, long millis) {
        return outcomes.stream().filter(o -> o.faultMillis() <= millis).reduce((a, b) -> b)
                .map(o -> "#" + o.number() + " " + o.what()).orElse("no fault yet");
    }
}
