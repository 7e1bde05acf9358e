"""An OTLP/gRPC metrics receiver for the tests: a real grpcio server with
the official generated service (pip opentelemetry-proto, grpcio). Every
Export call is appended, as JSON with the proto field names, to the file
given. A call without `authorization: Bearer TOKEN` is refused with
UNAUTHENTICATED, as an authenticated backend refuses it.

Usage: otlp_grpc_receiver.py OUTPUT_FILE HOST:PORT TOKEN. Prints "ready"
once listening.
"""
import json
import sys
from concurrent import futures

import grpc
from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.metrics.v1 import (
    metrics_service_pb2,
    metrics_service_pb2_grpc,
)

OUTPUT, ADDRESS, TOKEN = sys.argv[1], sys.argv[2], sys.argv[3]


class Receiver(metrics_service_pb2_grpc.MetricsServiceServicer):
    def Export(self, request, context):
        metadata = dict(context.invocation_metadata())
        if metadata.get("authorization") != "Bearer " + TOKEN:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "no valid token")
        record = {
            "user_agent": metadata.get("user-agent", ""),
            "request": MessageToDict(request, preserving_proto_field_name=True),
        }
        with open(OUTPUT, "a") as out:
            out.write(json.dumps(record) + "\n")
        return metrics_service_pb2.ExportMetricsServiceResponse()


server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Receiver(), server)
if server.add_insecure_port(ADDRESS) == 0:
    sys.exit("cannot listen on " + ADDRESS)
server.start()
print("ready", flush=True)
server.wait_for_termination()
