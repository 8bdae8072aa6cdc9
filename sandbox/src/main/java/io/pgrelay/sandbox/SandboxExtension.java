package io.pgrelay.sandbox;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5 extension that starts the shared sandbox once for the whole test run and stops it when
 * the run ends. Tests take the servers from {@link Sandbox#shared()}.
 */
public final class SandboxExtension implements BeforeAllCallback {

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                .getOrComputeIfAbsent(SandboxExtension.class, k -> {
                    Sandbox.shared();
                    return (ExtensionContext.Store.CloseableResource) Sandbox::closeShared;
                });
    }
}
