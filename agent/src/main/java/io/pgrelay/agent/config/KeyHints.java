package io.pgrelay.agent.config;

import java.util.Collection;
import java.util.Locale;

/** Finds the known key an unknown one was probably meant to be: same letters in another case or spelling, or a typo or two away. */
final class KeyHints {

    private KeyHints() {
    }

    static String closest(String unknown, Collection<String> known) {
        String wanted = normalize(unknown);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            String candidate = normalize(k);
            if (candidate.equals(wanted)) {
                return k;
            }
            int d = distance(wanted, candidate);
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        int allowed = wanted.length() <= 4 ? 1 : 2;
        return bestDistance <= allowed ? best : null;
    }

    // commit_interval, commit-interval and CommitInterval all mean commitInterval
    private static String normalize(String key) {
        return key.replace("_", "").replace("-", "").toLowerCase(Locale.ROOT);
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
