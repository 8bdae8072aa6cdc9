package io.pgrelay.it;

import io.pgrelay.sandbox.AgentConfigs;
import io.pgrelay.sandbox.Cluster;
import io.pgrelay.sandbox.Sandbox;
import io.pgrelay.sandbox.SandboxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SandboxExtension.class)
class TakeoverProbeIT {
    @Test
    void probe() throws Exception {
        Sandbox sandbox = Sandbox.shared();
        String cluster = ItSupport.uniqueCluster("probe");
        String table = "public." + cluster + "_t";
        sandbox.postgres().execute("CREATE TABLE " + table + " (id int primary key)");
        AgentConfigs configs = new AgentConfigs(sandbox, cluster).tables(table);
        try (Cluster c = Cluster.start(configs, 2)) {
            Cluster.Member leader = c.awaitLeader(30000);
            sandbox.postgres().execute("INSERT INTO " + table + " VALUES (1)");
            Thread.sleep(1000);
            long t0 = System.currentTimeMillis();
            System.out.println("KILL at " + java.time.Instant.ofEpochMilli(t0));
            leader.process().kill();
            Thread.sleep(8000);
            for (Cluster.Member m : c.members()) {
                System.out.println("=== " + m.id() + "\n" + m.process().log());
            }
        } finally {
            ItSupport.dropSlotAndPublication(sandbox, configs.slot());
        }
    }
}
