"""Drives a running Switchboard with the Open Inference Protocol's own Python clients from
PyPI: Triton's `tritonclient[http]` and KServe's `InferenceRESTClient`. Checks what each
client reads (server and model health and metadata, JSON and binary tensors both ways,
requested outputs, versions, the protocol's errors) against the Iris model's softmax
computed here with numpy, and prints the decisions made, as JSON, for the caller to find
in PostgreSQL. Exits non-zero with the failed check.

    python inference_clients.py --base http://127.0.0.1:8080 --model KEY --weights model.json [--api-key K]
"""
import argparse
import asyncio
import json
import sys
from urllib.parse import urlparse

import numpy as np
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

# The experiment's one context feature, as the JSON string gRPC-typed parameters can carry.
CONTEXT = json.dumps({"hour": 9})
ROWS = np.array([[6.3, 2.5, 5.0, 1.9], [5.1, 3.5, 1.4, 0.2], [6.0, 2.9, 4.5, 1.5]], dtype=np.float32)


def expected(weights_file):
    """The Iris model's probabilities and classes for ROWS, computed here."""
    with open(weights_file) as f:
        model = json.load(f)
    logits = ROWS.astype(np.float64) @ np.array(model["weights"]).T + np.array(model["bias"])
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return p, p.argmax(axis=1)


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def run_triton(args, probabilities, classes, decisions):
    url = urlparse(args.base)
    client = triton.InferenceServerClient(url=url.netloc)

    def auth():
        # A new dict each call: the client writes Inference-Header-Content-Length into the one it is given.
        return {"Authorization": f"Bearer {args.api_key}"} if args.api_key else None
    check(client.is_server_live(), "triton: server live")
    check(client.is_server_ready(), "triton: server ready")
    server = client.get_server_metadata()
    check(server["name"] == "switchboard" and "binary_tensor_data" in server["extensions"], f"triton: server metadata {server}")
    check(client.is_model_ready(args.model, headers=auth()), "triton: model ready")
    check(client.is_model_ready(args.model, model_version="1", headers=auth()), "triton: model version 1 ready")
    meta = client.get_model_metadata(args.model, headers=auth())
    check([i["name"] for i in meta["inputs"]] == ["input"], f"triton: model metadata {meta}")
    check(meta["versions"] == ["1"], f"triton: versions {meta}")

    # The client's default: inputs and outputs as binary data.
    tensor = triton.InferInput("input", list(ROWS.shape), "FP32")
    tensor.set_data_from_numpy(ROWS)
    result = client.infer(args.model, [tensor], headers=auth(), parameters={"unit": "triton-binary", "context": CONTEXT})
    check(np.allclose(result.as_numpy("probabilities"), probabilities, atol=1e-5), "triton: binary probabilities")
    check((result.as_numpy("class") == classes).all(), "triton: binary classes")
    answer = result.get_response()
    check(answer["parameters"]["unit"] == "triton-binary" and answer["model_name"] == args.model, f"triton: parameters {answer}")
    decisions.append({"client": "triton", "unit": "triton-binary", "decision_id": answer["parameters"]["decision_id"]})

    # JSON both ways, one output asked for, a pinned version and a request id.
    tensor = triton.InferInput("input", list(ROWS.shape), "FP32")
    tensor.set_data_from_numpy(ROWS, binary_data=False)
    wanted = [triton.InferRequestedOutput("class", binary_data=False)]
    result = client.infer(args.model, [tensor], model_version="1", outputs=wanted, request_id="r-42", headers=auth(),
                          parameters={"unit": "triton-json", "context": CONTEXT})
    answer = result.get_response()
    check([o["name"] for o in answer["outputs"]] == ["class"], f"triton: asked outputs {answer}")
    check((result.as_numpy("class") == classes).all() and answer["id"] == "r-42", f"triton: JSON answer {answer}")
    decisions.append({"client": "triton", "unit": "triton-json", "decision_id": answer["parameters"]["decision_id"]})

    # Errors arrive as the client's exception, with the server's status and message.
    for call, status, text in [
        (lambda: client.infer("no-such-model", [tensor], headers=auth()), "404", "no experiment has the key 'no-such-model'"),
        (lambda: client.infer(args.model, [tensor], model_version="9", headers=auth()), "404", "has no version '9'"),
        (lambda: client.infer(args.model, [tensor], outputs=[triton.InferRequestedOutput("logits")], headers=auth()), "422",
         "'logits' is not an output of this model"),
    ]:
        try:
            call()
        except InferenceServerException as e:
            check(e.status() == status and text in e.message(), f"triton: error {e.status()} {e.message()}")
        else:
            raise AssertionError(f"triton: no error for {text}")
    if args.api_key:
        try:
            client.infer(args.model, [tensor])
        except InferenceServerException as e:
            check(e.status() == "401", f"triton: no key gave {e.status()} {e.message()}")
        else:
            raise AssertionError("triton: no key, no error")


async def run_kserve(args, probabilities, classes, decisions):
    from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig
    from kserve.protocol.infer_type import RequestedOutput

    client = InferenceRESTClient(RESTConfig(protocol="v2", timeout=30))
    def auth():
        return {"Authorization": f"Bearer {args.api_key}"} if args.api_key else None

    try:
        check(await client.is_server_live(args.base, headers=auth()), "kserve: server live")
        check(await client.is_server_ready(args.base, headers=auth()), "kserve: server ready")
        check(await client.is_model_ready(args.base, args.model, headers=auth()), "kserve: model ready")
        for binary in (True, False):
            tensor = InferInput("input", list(ROWS.shape), "FP32")
            tensor.set_data_from_numpy(ROWS, binary_data=binary)
            unit = f"kserve-{'binary' if binary else 'json'}"
            outputs = [RequestedOutput("probabilities", parameters={"binary_data": True}), RequestedOutput("class")] if binary else None
            request = InferRequest(model_name=args.model, infer_inputs=[tensor], parameters={"unit": unit, "context": CONTEXT},
                                   request_outputs=outputs)
            response = await client.infer(args.base, request, model_name=args.model, headers=auth())
            got = {o.name: o.as_numpy() for o in response.outputs}
            check(np.allclose(got["probabilities"], probabilities, atol=1e-5), f"kserve: probabilities ({unit})")
            check((got["class"] == classes).all(), f"kserve: classes ({unit})")
            check(response.parameters["unit"] == unit, f"kserve: parameters {response.parameters}")
            decisions.append({"client": "kserve", "unit": unit, "decision_id": response.parameters["decision_id"]})
        try:
            tensor = InferInput("input", [1, 3], "FP32")
            tensor.set_data_from_numpy(np.zeros((1, 3), dtype=np.float32), binary_data=True)
            request = InferRequest(model_name=args.model, infer_inputs=[tensor], parameters={"context": CONTEXT})
            await client.infer(args.base, request, model_name=args.model, headers=auth())
        except Exception as e:  # httpx.HTTPStatusError carrying the server's "error"
            check("422" in str(e) and "input" in str(e), f"kserve: error {e}")
        else:
            raise AssertionError("kserve: a wrong shape gave no error")
    finally:
        await client.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--weights", required=True, help="the Iris model's model.json")
    parser.add_argument("--api-key")
    parser.add_argument("--output", help="write the JSON here instead of standard output")
    args = parser.parse_args()
    probabilities, classes = expected(args.weights)
    decisions = []
    run_triton(args, probabilities, classes, decisions)
    asyncio.run(run_kserve(args, probabilities, classes, decisions))
    out = {"decisions": decisions}
    if args.output:
        with open(args.output, "w") as f:
            json.dump(out, f)
    else:
        json.dump(out, sys.stdout)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"check failed: {e}", file=sys.stderr)
        sys.exit(1)
