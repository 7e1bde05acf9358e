"""An OTLP/HTTP metrics receiver for the tests: decodes every POST to
/v1/metrics with the official generated classes (pip opentelemetry-proto)
and appends it, as JSON with the proto field names, to the file given.

Usage: otlp_receiver.py OUTPUT_FILE. Listens on an ephemeral loopback port
and prints "ready PORT" once listening.
Answers 400 to a body that does not decode, so a wrong encoding fails;
a body with `Content-Encoding: gzip` is decompressed first.
"""
import gzip
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2

OUTPUT = sys.argv[1]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        request = metrics_service_pb2.ExportMetricsServiceRequest()
        try:
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            request.ParseFromString(body)
        except Exception as e:  # a wrong encoding is the point of the check
            self.send_response(400)
            self.end_headers()
            self.wfile.write(str(e).encode())
            return
        record = {
            "path": self.path,
            "content_type": self.headers.get("Content-Type"),
            "content_encoding": self.headers.get("Content-Encoding"),
            "request": MessageToDict(request, preserving_proto_field_name=True),
        }
        with open(OUTPUT, "a") as out:
            out.write(json.dumps(record) + "\n")
        reply = metrics_service_pb2.ExportMetricsServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("ready", server.server_address[1], flush=True)
server.serve_forever()
