package dev.wsbridge.config;

/**
 * What the backend is told about the client, besides the client's own headers: where the request came from
 * ({@code X-Forwarded-*}, RFC 7239 {@code Forwarded}, or both) and who the container authenticated (its
 * principal, and the subject and certificate of a client certificate taken at the container's TLS). A header
 * named here is never taken from the client: an incoming copy is always dropped.
 *
 * @param xForwarded      send {@code X-Forwarded-For}, {@code -Proto}, {@code -Host} and {@code -Port}
 * @param forwarded       send an RFC 7239 {@code Forwarded} element (appended to the client's chain)
 * @param userHeader      header carrying the authenticated user's name; {@code null} for none
 * @param certSubjectHeader header carrying the client certificate's subject (RFC 2253); {@code null} for none
 * @param certHeader      header carrying the client certificate itself, PEM, URL-encoded; {@code null} for none
 */
public record IdentitySettings(boolean xForwarded, boolean forwarded, String userHeader, String certSubjectHeader,
        String certHeader) {

    @Override
    public String toString() {
        return "Identity[forwardedHeaders=" + (xForwarded ? forwarded ? "both" : "x-forwarded" : "rfc7239")
                + ", userHeader=" + or(userHeader) + ", clientCertSubjectHeader=" + or(certSubjectHeader)
                + ", clientCertHeader=" + or(certHeader) + "]";
    }

    private static String or(String header) {
        return header == null ? "none" : header;
    }
}
