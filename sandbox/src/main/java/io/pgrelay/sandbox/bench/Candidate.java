package io.pgrelay.sandbox.bench;

/** Something that drains a slot's backlog; the benchmark times it. */
interface Candidate {

    /** Short name for the report. */
    String name();

    /** The slot name prefix this candidate uses (each workload gets its own slot). */
    String slotPrefix();

    /** Drains {@code backlog} and reports how long that took, from launch to done. */
    Measurement drain(Backlog backlog) throws Exception;

    /**
     * @param seconds     from launching the candidate until every row was delivered and acknowledged
     * @param attachSeconds from launching the candidate until its walsender held the slot (start-up)
     * @param peakRssKib  the candidate process's VmHWM, or -1 when it runs inside the benchmark's JVM
     * @param note        anything the reader of the table should know
     * @param cpu         the candidate process's CPU time when it was done, or null (not measured)
     */
    record Measurement(double seconds, double attachSeconds, long peakRssKib, String note, ProcessCpu cpu) {

        Measurement(double seconds, double attachSeconds, long peakRssKib, String note) {
            this(seconds, attachSeconds, peakRssKib, note, null);
        }

        /** Time spent streaming, start-up excluded. */
        double streamingSeconds() {
            return seconds - attachSeconds;
        }
    }
}
