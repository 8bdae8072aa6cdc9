package io.pgrelay.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Where the dashboard relays an admin token: over HTTPS, or plain HTTP on this machine only. */
class TokenTravelTest {

    @Test
    void plainHttpToAnotherMachineIsRefusedAndEverythingElsePasses() {
        assertThat(DashboardServer.plainHttpElsewhere("http://10.0.0.5:8081")).isEqualTo("http://10.0.0.5:8081");
        assertThat(DashboardServer.plainHttpElsewhere("http://agent-1.pgrelay:8081")).isEqualTo("http://agent-1.pgrelay:8081");
        assertThat(DashboardServer.plainHttpElsewhere("https://10.0.0.5:8081")).isNull();
        assertThat(DashboardServer.plainHttpElsewhere("http://127.0.0.1:8081")).isNull();
        assertThat(DashboardServer.plainHttpElsewhere("http://localhost:8081")).isNull();
        assertThat(DashboardServer.plainHttpElsewhere("http://[::1]:8081")).isNull();
    }
}
