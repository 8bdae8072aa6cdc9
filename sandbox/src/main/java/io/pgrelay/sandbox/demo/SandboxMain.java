package io.pgrelay.sandbox.demo;

import io.pgrelay.sandbox.Sandbox;
import java.util.concurrent.CountDownLatch;

/** Starts PostgreSQL, Kafka and ZooKeeper on 127.0.0.1, prints their addresses and runs until Ctrl-C. */
public final class SandboxMain {

    private SandboxMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("demo")) {
            Demo.main(java.util.Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        Sandbox sandbox = Sandbox.start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                sandbox.close();
            } catch (Exception e) {
                System.err.println("sandbox did not stop cleanly: " + e);
            }
            stopped.countDown();
        }, "sandbox-stop"));
        System.out.println("postgres   " + sandbox.postgres().jdbcUrl() + " (user postgres, no password)");
        System.out.println("kafka      " + sandbox.kafka().bootstrapServers());
        System.out.println("zookeeper  " + sandbox.zookeeper().connectString());
        System.out.println("Ctrl-C stops every server and removes its data.");
        stopped.await();
    }
}
