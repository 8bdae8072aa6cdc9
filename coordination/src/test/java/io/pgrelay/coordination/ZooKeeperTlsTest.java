package io.pgrelay.coordination;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.apache.zookeeper.client.ZKClientConfig;
import org.junit.jupiter.api.Test;

class ZooKeeperTlsTest {

    @Test
    void tlsSetsZooKeepersNettyClientWithThePemCaAndHostNameVerification() {
        ZKClientConfig c = new ZooKeeperTls(Path.of("/etc/pgrelay/zk-ca.pem")).applyTo(new ZKClientConfig());
        assertThat(c.getProperty("zookeeper.client.secure")).isEqualTo("true");
        assertThat(c.getProperty("zookeeper.clientCnxnSocket")).isEqualTo("org.apache.zookeeper.ClientCnxnSocketNetty");
        assertThat(c.getProperty("zookeeper.ssl.trustStore.location")).isEqualTo("/etc/pgrelay/zk-ca.pem");
        assertThat(c.getProperty("zookeeper.ssl.trustStore.type")).isEqualTo("PEM");
        assertThat(c.getProperty("zookeeper.ssl.hostnameVerification")).isEqualTo("true");
        assertThat(c.getProperty("zookeeper.ssl.keyStore.location")).isNull();
    }

    @Test
    void oneClientConfigCarriesTheSaslLoginAndTls() {
        ZooKeeperAuth auth = new ZooKeeperAuth("pgrelay", "zk-s3cret");
        ZKClientConfig c = new ZooKeeperTls(Path.of("/ca.pem")).applyTo(auth.clientConfig());
        assertThat(c.getProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY)).isEqualTo("true");
        assertThat(c.getProperty(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY)).isEqualTo("pgrelay-zookeeper-pgrelay");
        assertThat(c.getProperty(ZKClientConfig.SECURE_CLIENT)).isEqualTo("true");
    }

    @Test
    void theServersOfAConnectStringAreItsHostsAndPorts() {
        assertThat(ZooKeeperHandshake.servers("zk-1:2281, zk-2:2282,zk-3/pgrelay/prod")).containsExactly(
                InetSocketAddress.createUnresolved("zk-1", 2281), InetSocketAddress.createUnresolved("zk-2", 2282),
                InetSocketAddress.createUnresolved("zk-3", 2181));
        assertThat(ZooKeeperHandshake.servers("[::1]:2281,10.0.0.7:2281")).containsExactly(
                InetSocketAddress.createUnresolved("::1", 2281), InetSocketAddress.createUnresolved("10.0.0.7", 2281));
    }
}
