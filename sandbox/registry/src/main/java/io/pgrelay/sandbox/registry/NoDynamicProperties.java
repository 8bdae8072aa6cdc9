package io.pgrelay.sandbox.registry;

import io.apicurio.common.apps.config.DynamicConfigPropertyList;
import java.util.List;
import javax.enterprise.inject.Produces;
import javax.inject.Singleton;

/**
 * The one bean that Apicurio's build-time {@code config-index} Quarkus extension would make: its
 * deployment half is not on Maven Central, so this module leaves the extension out and declares no
 * dynamic (runtime-changeable) properties. The registry keeps its static configuration; only its
 * admin API's list of dynamic properties is empty.
 */
public final class NoDynamicProperties {

    @Produces
    @Singleton
    DynamicConfigPropertyList dynamicConfigPropertyList() {
        return new DynamicConfigPropertyList(List.of());
    }
}
