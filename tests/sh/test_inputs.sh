#!/bin/bash
# Input kinds as researchers save them, written here by NumPy (Debian's /usr/bin/python3):
# np.savez / np.savez_compressed archives, float16 features, string and bytes labels,
# .safetensors, and the files pedlab refuses with a conversion line (pickles, PyTorch, object
# arrays). Each kind must score exactly as the plain .npy files holding the same numbers.
set -u
P="$1"
F="${PL_SOURCE_DIR}/tests/fixtures"
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
if ! "$PY" -c "import numpy" 2>/dev/null; then
  skip_all "NumPy-written inputs ($PY with numpy is not installed: apt-get install python3-numpy)"
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
X="$F/blobs_small/features.npy"; Y="$F/blobs_small/labels.npy"
cd "$tmp" || exit 1

"$PY" - "$X" "$Y" <<'EOF' || { echo "FAIL writing the inputs"; exit 1; }
import json, pickle, struct, sys, zipfile
import numpy as np
x, y = np.load(sys.argv[1]), np.load(sys.argv[2])
np.savez("plain.npz", features=x, labels=y)
np.savez_compressed("packed.npz", x=x, y=y)
np.savez("one.npz", x)                                   # a single member, arr_0
np.savez("other.npz", emb=x, cls=y)
np.savez_compressed("ref.npz", features=np.load(sys.argv[1].replace("features.npy", "ref_features.npy")))
# float16 features, and the same numbers widened by NumPy (the reference)
h = x.astype(np.float16)
np.save("h.npy", h); np.save("h_be.npy", h.astype(">f2")); np.save("h_ref.npy", h.astype(np.float64))
# string labels: np.unique's order gives the ids
names = np.array(["cat", "dog", "éclair", "Zebra", "ant"])
u = names[y % len(names)]
np.save("u.npy", u); np.save("s.npy", np.char.encode(u, "utf-8")); np.save("u2.npy", u.reshape(-1, 1))
np.save("u_ids.npy", np.unique(u, return_inverse=True)[1].astype(np.int64))
np.save("s_ids.npy", np.unique(np.char.encode(u, "utf-8"), return_inverse=True)[1].astype(np.int64))
with open("u_names.txt", "w") as f: f.write(",".join(np.unique(u)))
np.savez_compressed("strings.npz", features=x, labels=u)
# safetensors, by the format's definition
def safetensors(path, arrays):
    header, blobs, at = {"__metadata__": {"format": "np"}}, [], 0
    for name, (a, dt) in arrays.items():
        b = np.ascontiguousarray(a).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [at, at + len(b)]}
        blobs.append(b); at += len(b)
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text))); f.write(text); f.writelines(blobs)
safetensors("m.safetensors", {"labels": (y.astype("<i8"), "I64"), "features": (x.astype("<f8"), "F64")})
safetensors("h.safetensors", {"emb": (h.astype("<f2"), "F16"), "y": (y.astype("<i8"), "I64")})
# refused: a pickle, a PyTorch-style zip holding data.pkl, an object array
with open("feats.pkl", "wb") as f: pickle.dump(x.tolist(), f)
with zipfile.ZipFile("model.pt", "w") as z: z.writestr("model/data.pkl", pickle.dumps([1]))
np.save("obj.npy", u.astype(object), allow_pickle=True)
# corrupt archives
b = open("plain.npz", "rb").read()
open("cut.npz", "wb").write(b[: len(b) // 2])
i = b.index(b"\x93NUMPY") + 200                     # a byte of the features' data
open("crc.npz", "wb").write(b[:i] + bytes([b[i] ^ 1]) + b[i + 1:])
b = open("packed.npz", "rb").read()
i = len(b) // 3
open("crcz.npz", "wb").write(b[:i] + bytes([b[i] ^ 0x10]) + b[i + 1:])
EOF

score() { "$P" score --metric logme,gbc:type=spherical,sfda --json "$@" 2>&1; }
ref=$(score --features "$X" --labels "$Y")
same() { # name args...: scores identical to the .npy files'
  local name="$1"; shift
  local out; out=$(score "$@")
  [ "$out" = "$ref" ] && ok "$name" || bad "$name: $out (expected $ref)"
}
same "np.savez, default names" --features plain.npz --labels plain.npz
same "np.savez, members named" --features plain.npz:features --labels plain.npz:labels.npy
same "np.savez_compressed, x/y" --features packed.npz --labels packed.npz
same "single member arr_0" --features one.npz --labels "$Y"
same "other names, picked" --features other.npz:emb --labels other.npz:cls
same "safetensors" --features m.safetensors --labels m.safetensors:labels
ref=$(score --features "$X" --labels u_ids.npy)
same "string labels (U) score as their np.unique ids" --features "$X" --labels u.npy
same "string labels in a compressed archive" --features strings.npz --labels strings.npz
ref=$(score --features "$X" --labels s_ids.npy)
same "bytes labels (S)" --features "$X" --labels s.npy
ref=$(score --features h_ref.npy --labels "$Y")
same "float16 widened exactly" --features h.npy --labels "$Y"
same "big-endian float16" --features h_be.npy --labels "$Y"
same "float16 safetensors" --features h.safetensors:emb --labels h.safetensors:y

R="$F/blobs_small/ref_features.npy"
ref=$(score --features "$X" --labels "$Y" --metric ped+logme --ref "$R")
same "PED's --ref from a compressed archive" --features "$X" --labels "$Y" --metric ped+logme --ref ref.npz
ref=$("$P" -e 'local pl = require "pedlab"
  print(pl.metrics.logme(pl.dataset("'"$X"'", "'"$Y"'")))')
out=$("$P" -e 'local pl = require "pedlab"
  print(pl.metrics.logme(pl.dataset("m.safetensors:features")))' 2>&1)
[ "$out" = "$ref" ] && ok "pl.dataset(F.safetensors:features): labels from the same file" || bad "one-file safetensors: $out (expected $ref)"

# class names: np.unique's order, carried on the dataset
out=$("$P" -e 'local pl = require "pedlab"
  local ds = pl.dataset("strings.npz")
  local moved = ds:moved(pl.zeros(ds:classes(), ds:dim()))
  io.write(table.concat(moved:class_names(), ","), " ", ds:classes(), " ", ds:name())' 2>&1)
[ "$out" = "$(cat u_names.txt) 4 strings.npz:features" ] && ok "pl.dataset(F.npz): labels from the archive, class names (a moved dataset's too)" || bad "class names: $out"
out=$("$P" -e 'local pl = require "pedlab"
  io.write(table.concat(pl.dataset("plain.npz:features", "plain.npz"):class_names(), ","))' 2>&1)
[ "$out" = "0,1,2,3" ] && ok "numeric labels: class names are the ids" || bad "numeric class names: $out"

# errors: one line naming the file (and member) and what to do
expect_err() { # name pattern args...
  local name="$1" pat="$2"; shift 2
  local err rc
  err=$("$P" "$@" 2>&1 >/dev/null); rc=$?
  if [ $rc -ne 0 ] && echo "$err" | grep -qF -- "$pat" && [ "$(echo "$err" | wc -l)" -eq 1 ]; then ok "$name"
  else bad "$name (rc=$rc): $err"; fi
}
L="--labels $Y --metric logme"
expect_err "truncated archive" "cut.npz: truncated zip archive" score --features cut.npz $L
expect_err "bad CRC, stored member" "crc.npz:features: CRC-32 mismatch" score --features crc.npz $L
expect_err "corrupt deflated member" "crcz.npz: member x.npy" score --features crcz.npz $L
expect_err "member not found" "other.npz holds no array named 'nope'; it holds: emb, cls" score --features other.npz:nope $L
expect_err "no default name" "other.npz holds no features array (looked for features, x, X, feats); it holds: emb, cls" score --features other.npz $L
expect_err "pickle" "feats.pkl is a Python pickle: pedlab never unpickles; convert it once with: python3 -c" score --features feats.pkl $L
expect_err "PyTorch" "model.pt is a PyTorch file (a pickle)" score --features model.pt $L
expect_err "object array" "obj.npy: object arrays (dtype '|O') are refused" score --features "$X" --labels obj.npy --metric logme
expect_err "strings as features" "u2.npy holds strings; features must be numbers" score --features u2.npy $L
expect_err "an .npy has no members" "is a .npy file, a single array: drop ':x'" score --features "$X:x" $L
out=$("$P" -e 'require("pedlab").dataset("'"$X"'")' 2>&1)
echo "$out" | grep -qF "is a .npy file holding one array: give the labels separately" && ok "pl.dataset(F.npy) without labels" || bad "no labels: $out"

# the conversion lines work as printed
line=$("$P" score --features "$X" --labels obj.npy --metric logme 2>&1 | sed -n 's/.*convert it once with: //p')
(eval "${line/python3 /$PY }") && [ -f obj-plain.npy ] && same_out=$(score --features "$X" --labels obj-plain.npy) \
  && [ "$same_out" = "$(score --features "$X" --labels u.npy)" ] && ok "object array: the printed line converts it" || bad "object conversion: $line"
line=$("$P" score --features feats.pkl $L 2>&1 | sed -n 's/.*convert it once with: //p')
(eval "${line/python3 /$PY }") && [ -f feats.npy ] && ok "pickle: the printed line converts it" || bad "pickle conversion: $line"
summary
