package io.pgrelay.agent.slot;

/** The leader found, once it held the slot and had read the checkpoint, that it must not stream from it. */
public final class SlotRefusedException extends Exception {

    private final SlotCheck.Verdict verdict;

    public SlotRefusedException(SlotCheck.Verdict verdict) {
        super(verdict.message());
        this.verdict = verdict;
    }

    public SlotCheck.Verdict verdict() {
        return verdict;
    }
}
