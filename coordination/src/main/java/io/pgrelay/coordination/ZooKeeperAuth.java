package io.pgrelay.coordination;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.zookeeper.ZooDefs.Perms;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;

/**
 * SASL (DIGEST-MD5) credentials for ZooKeeper, and the ACLs they own. ZooKeeper's client finds its
 * SASL login in the JVM's JAAS {@link Configuration} under a section name; rather than ask for a
 * JAAS file, pgrelay installs, once, a configuration that answers for its own sections (one per
 * user, {@code pgrelay-zookeeper-<user>}) and hands every other name to the configuration that was
 * there before.
 *
 * <p>Every znode under {@code /pgrelay/<cluster>} gets {@code sasl:<user>} with all permissions and
 * nothing for anyone else: another client may neither read, take nor delete the lock. The agents of
 * a cluster share the user, so each may delete a dead leader's lock node. {@code /pgrelay} itself,
 * shared by clusters, also lets anyone read it and create a child (a cluster's root).
 *
 * @param password never in {@link #toString}
 */
public record ZooKeeperAuth(String username, String password) {

    static final String SECTION_PREFIX = "pgrelay-zookeeper-";
    private static final Map<String, AppConfigurationEntry[]> SECTIONS = new ConcurrentHashMap<>();

    public ZooKeeperAuth {
        if (username == null || username.isBlank() || password == null || password.isEmpty()) {
            throw new IllegalArgumentException("zookeeper auth: username and password are required");
        }
    }

    /** A client configuration that logs in as this user with DIGEST-MD5. */
    public ZKClientConfig clientConfig() {
        String section = SECTION_PREFIX + username;
        SECTIONS.put(section, new AppConfigurationEntry[] {new AppConfigurationEntry(
                "org.apache.zookeeper.server.auth.DigestLoginModule", AppConfigurationEntry.LoginModuleControlFlag.REQUIRED,
                Map.of("username", username, "password", password))});
        Sections.install();
        ZKClientConfig config = new ZKClientConfig();
        config.setProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "true");
        config.setProperty(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY, section);
        return config;
    }

    /** The ACLs of every znode this client creates. */
    public ACLProvider acls() {
        List<ACL> owner = List.of(new ACL(Perms.ALL, new Id("sasl", username)));
        List<ACL> shared = List.of(new ACL(Perms.ALL, new Id("sasl", username)),
                new ACL(Perms.READ | Perms.CREATE, new Id("world", "anyone")));
        return new ACLProvider() {
            // ZooKeeper's validateACL asks contains(null), which List.of's lists answer with an NPE: a copy each time
            @Override
            public List<ACL> getDefaultAcl() {
                return new ArrayList<>(owner);
            }

            @Override
            public List<ACL> getAclForPath(String path) {
                return new ArrayList<>("/pgrelay".equals(path) ? shared : owner);
            }
        };
    }

    @Override
    public String toString() {
        return "ZooKeeperAuth[username=" + username + ", password=****]";
    }

    /** The JVM-wide JAAS configuration, with pgrelay's sections in front of whatever was configured. */
    private static final class Sections extends Configuration {
        private static boolean installed;
        private final Configuration before;

        private Sections(Configuration before) {
            this.before = before;
        }

        static synchronized void install() {
            if (installed) {
                return;
            }
            Configuration before;
            try {
                before = Configuration.getConfiguration();
            } catch (SecurityException e) { // no JAAS file configured: nothing to fall back on
                before = null;
            }
            Configuration.setConfiguration(new Sections(before));
            installed = true;
        }

        @Override
        public AppConfigurationEntry[] getAppConfigurationEntry(String name) {
            AppConfigurationEntry[] own = SECTIONS.get(name);
            if (own != null) {
                return own;
            }
            return before == null ? null : before.getAppConfigurationEntry(name);
        }

        @Override
        public void refresh() {
            if (before != null) {
                before.refresh();
            }
        }
    }
}
