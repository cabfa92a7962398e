package dev.wsbridge.backend;

import dev.wsbridge.config.BackendSettings;
import dev.wsbridge.config.BridgeConfig;
import dev.wsbridge.config.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.util.Collections;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * TLS toward {@code wss://} backends: the trust store, the client certificate for mutual TLS, host name
 * verification, and SNI with the backend's host name.
 */
public final class BackendTls {

    private BackendTls() {
    }

    /**
     * Opens the key stores the settings name, so a missing file, a wrong password or a wrong type stops the
     * deployment naming its init-param rather than failing every handshake later.
     */
    public static void check(BackendSettings.Tls tls) {
        if (tls.trustStore() != null) {
            load(BridgeConfig.BACKEND_TRUST_STORE, tls.trustStore(), tls.trustStoreType(), tls.trustStorePassword());
        }
        if (tls.keyStore() != null) {
            KeyStore store = load(BridgeConfig.BACKEND_KEY_STORE, tls.keyStore(), tls.keyStoreType(), tls.keyStorePassword());
            try {
                if (Collections.list(store.aliases()).stream().noneMatch(a -> isKey(store, a))) {
                    throw new ConfigException("init-param [" + BridgeConfig.BACKEND_KEY_STORE + "] has value ["
                            + tls.keyStore() + "]; expected a key store holding a private key and its certificate");
                }
            } catch (KeyStoreException e) {
                throw new ConfigException("init-param [" + BridgeConfig.BACKEND_KEY_STORE + "] has value ["
                        + tls.keyStore() + "]; expected a readable key store: " + e.getMessage());
            }
        }
    }

    private static boolean isKey(KeyStore store, String alias) {
        try {
            return store.isKeyEntry(alias);
        } catch (KeyStoreException e) {
            return false;
        }
    }

    private static KeyStore load(String param, Path file, String type, String password) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new ConfigException("init-param [" + param + "] has value [" + file + "]; expected a readable file");
        }
        try (InputStream in = Files.newInputStream(file)) {
            KeyStore store = KeyStore.getInstance(type);
            store.load(in, password == null ? null : password.toCharArray());
            return store;
        } catch (IOException | GeneralSecurityException e) {
            throw new ConfigException("init-param [" + param + "] has value [" + file + "]; expected a " + type
                    + " key store that opens with its password: " + e.getMessage());
        }
    }

    /** The client TLS factory for {@code tls}; its stores are read when the client starts. */
    public static SslContextFactory.Client factory(BackendSettings.Tls tls) {
        SslContextFactory.Client ssl = new SslContextFactory.Client();
        if (tls.trustStore() != null) {
            ssl.setTrustStorePath(tls.trustStore().toString());
            ssl.setTrustStoreType(tls.trustStoreType());
            if (tls.trustStorePassword() != null) {
                ssl.setTrustStorePassword(tls.trustStorePassword());
            }
        }
        if (tls.keyStore() != null) {
            ssl.setKeyStorePath(tls.keyStore().toString());
            ssl.setKeyStoreType(tls.keyStoreType());
            if (tls.keyStorePassword() != null) {
                ssl.setKeyStorePassword(tls.keyStorePassword());
                ssl.setKeyManagerPassword(tls.keyStorePassword());
            }
        }
        if (!tls.hostnameVerification()) {
            ssl.setEndpointIdentificationAlgorithm(null);
        }
        ssl.setSNIProvider(BackendTls::serverNames);
        return ssl;
    }

    /**
     * SNI (RFC 6066 §3): the backend's host name, also when it has no dot ({@code localhost}, a bare service
     * name), which the JDK leaves out; never an IP address, which SNI may not carry.
     */
    private static List<SNIServerName> serverNames(SSLEngine engine, List<SNIServerName> serverNames) {
        String host = engine.getPeerHost();
        if (!serverNames.isEmpty() || host == null || host.isEmpty() || isAddress(host)) {
            return serverNames;
        }
        try {
            return List.of(new SNIHostName(host));
        } catch (IllegalArgumentException e) {
            return serverNames;
        }
    }

    private static boolean isAddress(String host) {
        if (host.indexOf(':') >= 0 || host.startsWith("[")) {
            return true;
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if ((c < '0' || c > '9') && c != '.') {
                return false;
            }
        }
        return true;
    }
}
