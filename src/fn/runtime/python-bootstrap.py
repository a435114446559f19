# python-bootstrap.py - Tandem's Python runtime: imports the handler named by
# _HANDLER ("module.function", "pkg/sub/module.function" or
# "pkg.module.function", imported with LAMBDA_TASK_ROOT first on sys.path)
# and serves invocations over the Lambda Runtime API at
# AWS_LAMBDA_RUNTIME_API, with the error shapes, context object, logging
# format and JSON encoding of Lambda's own Python runtime. Run as
# `python3 -u -B python-bootstrap.py`; uses only Python's standard library.
import decimal
import http.client
import importlib
import json
import logging
import os
import sys
import time
import traceback
import uuid

BASE = "/2018-06-01/runtime"
REQUEST_ID = ""  # the invocation being served, for the log lines
UNHANDLED_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function "
    "code. However, in rare cases, a Lambda runtime update can cause unexpected function "
    "behavior. For functions using managed runtimes, runtime updates can be triggered by a "
    "function change, or can be applied automatically. To determine if the runtime has been "
    "updated, check the runtime version in the INIT_START log entry. If this error correlates "
    "with a change in the runtime version, you may be able to mitigate this error by "
    "temporarily rolling back to the previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\n")


class Fault(Exception):
    """An error of the runtime itself (errorType Runtime.*)."""

    def __init__(self, error_type, msg, trace=None):
        super().__init__(msg)
        self.error_type = error_type
        self.msg = msg
        self.trace = trace


class RuntimeClient:
    """The Runtime API over one kept-alive connection (made again when lost)."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.host, self.port = host, int(port)
        self.conn = None

    def call(self, method, path, body=None, headers=None):
        data = body.encode("utf-8") if isinstance(body, str) else body
        hdrs = dict(headers or {})
        if data is not None:
            hdrs.setdefault("Content-Type", "application/json")
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port)
            try:
                self.conn.request(method, BASE + path, body=data, headers=hdrs)
                resp = self.conn.getresponse()
                return resp.status, resp.headers, resp.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        return None  # not reached

    def next(self):
        return self.call("GET", "/invocation/next")

    def post_error(self, path, error):
        self.call("POST", path, to_json(error),
                  {"Lambda-Runtime-Function-Error-Type": error["errorType"]})


def to_json(obj):
    """json.dumps as Lambda's runtime encodes a result: a decimal.Decimal is
    written as its own digits (NaN as NaN), everything else as json does."""
    marks = {}
    nonce = "\x00" + uuid.uuid4().hex + ":"

    def default(o):
        if isinstance(o, decimal.Decimal):
            key = nonce + str(len(marks))
            marks[json.dumps(key)] = "NaN" if o.is_nan() else str(o)
            return key
        raise TypeError("Object of type %s is not JSON serializable" % type(o).__name__)

    out = json.dumps(obj, default=default)
    for key, digits in marks.items():
        out = out.replace(key, digits, 1)
    return out


def marshal(response):
    """The response body: bytes as they are, anything else as JSON
    (Runtime.MarshalError when it cannot be), as Lambda's runtime does."""
    if isinstance(response, bytes):
        return response
    try:
        return to_json(response)
    except Exception as e:
        raise Fault("Runtime.MarshalError", "Unable to marshal response: %s" % e)


def make_error(msg, error_type, trace, request_id=""):
    return {"errorMessage": msg or "", "errorType": error_type or "",
            "requestId": request_id or "", "stackTrace": trace if trace is not None else []}


def fault_result(exc, request_id=""):
    """An exception of the function as Lambda reports it: its class name, its
    message and the traceback lines below the runtime's own frames."""
    here = os.path.abspath(__file__)
    frames = [(f.filename, f.lineno, f.name, f.line)  # as tuples: no column carets
              for f in traceback.extract_tb(exc.__traceback__)]
    while frames and os.path.abspath(frames[0][0]) == here:
        frames = frames[1:]
    return make_error(str(exc), type(exc).__name__, traceback.format_list(frames), request_id)


def log_error(error):
    lines = ["[ERROR] %s: %s" % (error["errorType"], error["errorMessage"])
             if error["errorMessage"] else "[ERROR] %s" % error["errorType"]]
    lines.append("Traceback (most recent call last):")
    for element in error["stackTrace"]:
        lines.extend(element.splitlines() or [""])
    sys.stdout.write("\n".join(lines) + "\n")


def fault_handler(fault):
    def handler(event, context):
        raise fault

    return handler


def load_handler(name):
    try:
        modname, fname = name.rsplit(".", 1)
    except ValueError as e:
        raise Fault("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (name, e))
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise Fault("Runtime.BuiltInModuleConflict",
                        "Cannot use built-in module %s as a handler module" % modname)
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise Fault("Runtime.ImportModuleError",
                    "Unable to import module '%s': %s" % (modname, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise Fault("Runtime.UserCodeSyntaxError",
                    "Syntax error in module '%s': %s" % (modname, e), trace)
    try:
        return getattr(module, fname)
    except AttributeError:
        # as Lambda does: the init succeeds and each invocation reports it
        return fault_handler(Fault("Runtime.HandlerNotFound",
                                   "Handler '%s' missing on module '%s'" % (fname, modname)))


class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]


class Client:
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code",
                 "app_package_name"]


class ClientContext:
    __slots__ = ["custom", "env", "client"]


def obj_from_dict(cls, d):
    if d is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, d.get(field))
    return obj


class LambdaContext:
    def __init__(self, request_id, deadline_ms, arn, client_context, identity):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = arn
        self.client_context = obj_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = obj_from_dict(Client, self.client_context.client)
        self.identity = obj_from_dict(CognitoIdentity, {})
        if identity is not None:
            self.identity.cognito_identity_id = identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        left = self._deadline_ms - int(time.time() * 1000)
        return left if left > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return ("LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,"
                "function_name=%s,memory_limit_in_mb=%s,function_version=%s,"
                "invoked_function_arn=%s,client_context=%s,identity=%s])"
                % (self.aws_request_id, self.log_group_name, self.log_stream_name,
                   self.function_name, self.memory_limit_in_mb, self.function_version,
                   self.invoked_function_arn, self.client_context, self.identity))


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = REQUEST_ID
        return True


def setup_logging():
    """The root logger's handler as Lambda installs it (level WARNING)."""
    handler = logging.StreamHandler(sys.stdout)
    fmt = logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t"
                            "%(message)s", "%Y-%m-%dT%H:%M:%S")
    fmt.converter = time.gmtime
    handler.setFormatter(fmt)
    handler.addFilter(RequestIdFilter())
    logging.getLogger().addHandler(handler)


def header_json(headers, name):
    value = headers.get(name)
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def handle(client, handler, status, headers, body):
    global REQUEST_ID
    request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
    REQUEST_ID = request_id
    trace_id = headers.get("Lambda-Runtime-Trace-Id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    error = None
    try:
        context = LambdaContext(request_id, int(headers.get("Lambda-Runtime-Deadline-Ms") or 0),
                                headers.get("Lambda-Runtime-Invoked-Function-Arn"),
                                header_json(headers, "Lambda-Runtime-Client-Context"),
                                header_json(headers, "Lambda-Runtime-Cognito-Identity"))
        try:
            event = json.loads(body.decode("utf-8")) if body else None
        except ValueError as e:
            raise Fault("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % e)
        result = marshal(handler(event, context))
    except Fault as e:
        error = make_error(e.msg, e.error_type, e.trace, request_id)
    except Exception as e:  # SystemExit and KeyboardInterrupt end the runtime
        error = fault_result(e, request_id)
    if error is None:
        client.call("POST", "/invocation/%s/response" % request_id, result)
        return
    sys.stdout.write(UNHANDLED_WARNING)
    log_error(error)
    client.post_error("/invocation/%s/error" % request_id, error)


def main():
    root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    sys.path[0] = root  # the package root, not this file's directory
    client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    try:
        setup_logging()
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Fault as e:
        error = make_error(e.msg, e.error_type, e.trace)
    except Exception as e:
        error = fault_result(e)
    else:
        error = None
    if error is not None:
        log_error(error)
        client.post_error("/init/error", error)
        sys.exit(1)
    while True:
        status, headers, body = client.next()
        if status != 200:
            sys.exit(0)
        handle(client, handler, status, headers, body)


if __name__ == "__main__":
    main()
