package io.pgrelay.agent.registry;

import io.pgrelay.agent.config.FormatConfig;
import io.pgrelay.agent.config.Secret;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** The client against a port where nothing listens: the registry is down, as the agent meets it. */
class SchemaRegistryClientTest {

    private static final String PASSWORD = "registry-pw-never-shown";

    @Test
    void aRegistryThatIsDownIsRetriedForItsRetryTimeoutThenStopsTheLeaderWithOneClearError() throws Exception {
        String url = "http://127.0.0.1:" + closedPort() + "/apis/ccompat/v7";
        SchemaRegistryClient client = new SchemaRegistryClient(
                new FormatConfig.SchemaRegistry(url, "relay", Secret.of(PASSWORD), Duration.ofMillis(1500)));
        String context = "the first row of public.orders in this shape, at LSN 0/16B3748";

        long start = System.nanoTime();
        Throwable first = catchThrowable(() -> client.register("demo.public.orders-value", "\"string\"", context));
        assertThat(first).isInstanceOf(SchemaRegistryClient.RegistryUnavailableException.class)
                .hasMessageStartingWith("schema registry " + url + " could not register subject demo.public.orders-value (for "
                        + context + ")");
        Throwable last = first;
        while (last instanceof SchemaRegistryClient.RegistryUnavailableException && System.nanoTime() - start < 10_000_000_000L) {
            Thread.sleep(100);
            last = catchThrowable(() -> client.register("demo.public.orders-value", "\"string\"", context));
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("retried for the whole retryTimeout")
                .isGreaterThanOrEqualTo(Duration.ofMillis(1500));
        assertThat(last).isInstanceOf(SchemaRegistryClient.RegistryDownException.class);
        assertThat(last.getMessage()).startsWith("schema registry " + url + " has been unreachable or failing for ")
                .contains(" s (kafka.schemaRegistry.retryTimeout: 1500ms); the leader stops: could not register subject"
                        + " demo.public.orders-value (for " + context + "); nothing from that row on is written and the slot"
                        + " stays before it. Last failure: ")
                .doesNotContain(PASSWORD);
        assertThat(io.pgrelay.agent.failure.Failures.classify(last)).isEqualTo(io.pgrelay.agent.failure.Failures.Kind.FATAL);
        System.out.println("SchemaRegistryClientTest: " + last.getMessage());
    }

    @Test
    void aFailureLongAfterTheLastOneStartsANewOutageInsteadOfStoppingAtOnce() throws Exception {
        String url = "http://127.0.0.1:" + closedPort();
        SchemaRegistryClient client = new SchemaRegistryClient(
                new FormatConfig.SchemaRegistry(url, null, Secret.EMPTY, Duration.ofMillis(800)), Duration.ofMillis(400));
        assertThat(catchThrowable(() -> client.register("t-value", "\"string\"", "a row")))
                .isInstanceOf(SchemaRegistryClient.RegistryUnavailableException.class);
        Thread.sleep(1000);   // quiet for longer than a leader's retries ever are: the first outage is over
        assertThat(catchThrowable(() -> client.register("t-value", "\"string\"", "a row")))
                .as("a new outage, timed from now").isInstanceOf(SchemaRegistryClient.RegistryUnavailableException.class);
        Throwable last = null;
        long start = System.nanoTime();
        while (!(last instanceof SchemaRegistryClient.RegistryDownException) && System.nanoTime() - start < 10_000_000_000L) {
            Thread.sleep(100);
            last = catchThrowable(() -> client.register("t-value", "\"string\"", "a row"));
        }
        assertThat(last).isInstanceOf(SchemaRegistryClient.RegistryDownException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(500));
    }

    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
