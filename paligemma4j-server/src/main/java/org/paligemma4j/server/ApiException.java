package org.paligemma4j.server;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A request the server refuses, with the HTTP status and the OpenAI error object it is reported as:
 * {@code {"error":{"message","type","param","code"}}}. The message names the problem and what to do; it never
 * carries a stack trace.
 */
final class ApiException extends RuntimeException {
    final int status;
    final String type;
    final String param;
    final String code;

    ApiException(int status, String type, String param, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400 for a request that cannot run as sent; {@code param} names the offending field (may be null). */
    static ApiException badRequest(String param, String message) {
        return new ApiException(400, "invalid_request_error", param, null, message);
    }

    static ApiException badRequest(String param, String code, String message) {
        return new ApiException(400, "invalid_request_error", param, code, message);
    }

    ObjectNode toJson() {
        return errorJson(getMessage(), type, param, code);
    }

    static ObjectNode errorJson(String message, String type, String param, String code) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", message);
        error.put("type", type);
        if (param == null) error.putNull("param");
        else error.put("param", param);
        if (code == null) error.putNull("code");
        else error.put("code", code);
        return root;
    }
}
