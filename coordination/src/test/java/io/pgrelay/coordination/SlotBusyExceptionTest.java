package io.pgrelay.coordination;

import org.junit.jupiter.api.Test;

import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;

class SlotBusyExceptionTest {

    @Test
    void objectInUseIsSlotBusy() {
        assertThat(SlotBusyException.isSlotBusy(new SQLException("replication slot \"s\" is active for PID 7", "55006"))).isTrue();
    }

    @Test
    void objectInUseWrappedOrChainedIsSlotBusy() {
        SQLException outer = new SQLException("wrapper", "08000", new SQLException("busy", "55006"));
        assertThat(SlotBusyException.isSlotBusy(outer)).isTrue();
        SQLException chained = new SQLException("first", "XX000");
        chained.setNextException(new SQLException("busy", "55006"));
        assertThat(SlotBusyException.isSlotBusy(chained)).isTrue();
    }

    @Test
    void otherStatesAreNotSlotBusy() {
        assertThat(SlotBusyException.isSlotBusy(new SQLException("no such slot", "42704"))).isFalse();
        assertThat(SlotBusyException.isSlotBusy(new SQLException("connection refused", "08001"))).isFalse();
        assertThat(SlotBusyException.isSlotBusy(new SQLException("no state"))).isFalse();
    }
}
