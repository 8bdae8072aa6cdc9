package io.pgrelay.it;

import io.pgrelay.sandbox.chaos.ChaosDrill;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The chaos drill of {@code scripts/chaos}, shortened to {@code -Dchaos.seconds} (150 by default)
 * of faults per coordination mode: a random schedule of agent, broker, ZooKeeper and network faults
 * under load must end with nothing lost, duplicated or reordered, epochs never going back, one agent
 * per epoch, and the cluster never stuck. The schedule's seed is printed; {@code -Dchaos.seed=S}
 * runs one again. Each mode starts its own servers: about four minutes a mode in all.
 */
@Tag("drill")   // ./mvnw verify -Pdrills
class ChaosDrillIT {

    @ParameterizedTest(name = "{0} mode")
    @ValueSource(strings = {"slot", "zookeeper"})
    void aRandomScheduleOfFaultsLosesDuplicatesAndReordersNothing(String mode) {
        List<String> args = new ArrayList<>(List.of("--seconds", System.getProperty("chaos.seconds", "150"), "--mode", mode));
        String seed = System.getProperty("chaos.seed");
        if (seed != null) {
            args.addAll(List.of("--seed", seed));
        }
        int status = ChaosDrill.run(System.out, args.toArray(String[]::new));
        assertThat(status).as("the chaos drill's exit status in " + mode + " mode (its table and verdict above)").isZero();
    }
}
