package io.pgrelay.sandbox.bench;

/** LSNs as PostgreSQL writes them. */
final class Lsns {

    private Lsns() {
    }

    static String text(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase() + "/" + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase();
    }
}
