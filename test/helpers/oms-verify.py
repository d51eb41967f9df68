#!/usr/bin/env python3
"""An independent OMS v1.0 (key mode) verifier, written from the format description alone.

Usage: oms-verify.py MODEL_PATH BUNDLE.json PUBLIC_KEY.pem
Prints one JSON object; exit 0 when the signature and every file digest check out, 1 otherwise.
Uses only the standard library and python3-cryptography.
"""
import base64
import hashlib
import json
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

HASHES = {256: hashes.SHA256, 384: hashes.SHA384, 521: hashes.SHA512}


def fail(reason):
    print(json.dumps({"ok": False, "reason": reason}))
    sys.exit(1)


def pae(payload_type, payload):
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def file_digests(model_path, ignore_paths, signature_path):
    """Relative POSIX path -> sha256 hex for every regular file; a single file is named '.'."""
    if os.path.isfile(model_path):
        with open(model_path, "rb") as f:
            return {".": hashlib.sha256(f.read()).hexdigest()}
    out = {}
    sig_rel = os.path.relpath(os.path.abspath(signature_path), os.path.abspath(model_path)).replace(os.sep, "/")
    for folder, _dirs, files in os.walk(model_path):
        for name in files:
            full = os.path.join(folder, name)
            rel = os.path.relpath(full, model_path).replace(os.sep, "/")
            if rel == sig_rel or any(rel == p or rel.startswith(p + "/") for p in ignore_paths):
                continue
            with open(full, "rb") as f:
                out[rel] = hashlib.sha256(f.read()).hexdigest()
    return out


def main():
    model_path, bundle_path, key_path = sys.argv[1:4]
    with open(bundle_path) as f:
        bundle = json.load(f)
    with open(key_path, "rb") as f:
        key = serialization.load_pem_public_key(f.read())
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.key_size not in HASHES:
        fail("not an ECDSA P-256/384/521 public key")

    if bundle.get("mediaType") != "application/vnd.dev.sigstore.bundle.v0.3+json":
        fail("media type")
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    if bundle["verificationMaterial"]["publicKey"]["hint"] != hashlib.sha256(pem).hexdigest():
        fail("key hint does not match the public key")
    if bundle["verificationMaterial"].get("tlogEntries", []) != []:
        fail("unexpected transparency log entries in key mode")

    envelope = bundle["dsseEnvelope"]
    payload = base64.b64decode(envelope["payload"], validate=True)
    if envelope["payloadType"] != "application/vnd.in-toto+json" or len(envelope["signatures"]) != 1:
        fail("envelope shape")
    signature = base64.b64decode(envelope["signatures"][0]["sig"], validate=True)
    try:
        key.verify(signature, pae(envelope["payloadType"], payload), ec.ECDSA(HASHES[key.curve.key_size]()))
    except InvalidSignature:
        fail("bad signature")

    statement = json.loads(payload)
    if statement["_type"] != "https://in-toto.io/Statement/v1":
        fail("statement type")
    if statement["predicateType"] != "https://model_signing/signature/v1.0":
        fail("predicate type")
    predicate = statement["predicate"]
    serialization_info = predicate["serialization"]
    if serialization_info["method"] != "files" or serialization_info["hash_type"] != "sha256":
        fail("serialization")
    resources = predicate["resources"]
    names = [r["name"] for r in resources]
    if names != sorted(names, key=lambda n: n.split("/")):
        fail("resources not sorted by path components")
    root = hashlib.sha256(b"".join(bytes.fromhex(r["digest"]) for r in resources)).hexdigest()
    if len(statement["subject"]) != 1 or statement["subject"][0]["digest"]["sha256"] != root:
        fail("subject digest does not match resources")

    local = file_digests(model_path, serialization_info.get("ignore_paths", []), bundle_path)
    signed = {r["name"]: r["digest"] for r in resources if r["algorithm"] == "sha256"}
    if len(signed) != len(resources):
        fail("a resource uses another algorithm")
    if local != signed:
        fail("file digests differ: " + json.dumps(sorted(set(local.items()) ^ set(signed.items()))))
    print(json.dumps({"ok": True, "files": len(signed), "rootDigest": root, "curve": key.curve.name}))


if __name__ == "__main__":
    main()
