/* Rural Ledger: check a record against the operator-signed checkpoint, in this browser.
 *
 * What is checked, from the bytes the page carries (nothing the server says is taken on trust):
 *  1. the operator's verifier key (C2SP signed-note form <name>+<hex keyhash>+<base64(0x01||key)>)
 *     is well formed and its key hash is SHA-256(name || "\n" || 0x01 || key)[:4];
 *  2. the checkpoint note carries a signature line by that key, and the Ed25519 signature over
 *     the note's text (everything before the blank line) is valid;
 *  3. the record's leaf hash is SHA-256(0x00 || RFC 8785 canonical bytes of the record's four
 *     fields entry, recorded_at, seq, sig);
 *  4. the inclusion proof (RFC 9162 section 2.1.3.2) leads from that leaf, at index seq, to the
 *     root hash in the signed checkpoint of the signed size;
 *  5. the record's ledger is the checkpoint's origin.
 * The verdict is 验证通过 only when every step holds.
 */
(function () {
  "use strict";
  var enc = new TextEncoder();
  var RECORD_FIELDS = ["entry", "recorded_at", "seq", "sig"];

  function byId(id) { return document.getElementById(id); }
  function readJSON(id) { var el = byId(id); return el ? JSON.parse(el.textContent) : null; }
  var M = readJSON("verify-messages") || {};
  function say(key, value) { var s = M[key] || key; return value === undefined ? s : s.replace("{0}", value); }

  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }
  function unhex(s) {
    if (typeof s !== "string" || !/^([0-9a-f]{2})*$/.test(s)) throw new Error("hex");
    var out = new Uint8Array(s.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
    return out;
  }
  function unb64(s) {
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function concat() {
    var n = 0, i, parts = arguments;
    for (i = 0; i < parts.length; i++) n += parts[i].length;
    var out = new Uint8Array(n), at = 0;
    for (i = 0; i < parts.length; i++) { out.set(parts[i], at); at += parts[i].length; }
    return out;
  }
  function equal(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)); }

  /* RFC 8785 for the ledger's values (objects, arrays, strings, safe integers, booleans, null):
   * keys sorted by UTF-16 code units (what Array.prototype.sort does), strings and numbers as
   * JSON.stringify writes them (which is how RFC 8785 defines them). */
  function canonical(v) {
    if (v === null || typeof v === "boolean" || typeof v === "string") return JSON.stringify(v);
    if (typeof v === "number") {
      if (!Number.isSafeInteger(v)) throw new Error("number");
      return JSON.stringify(v);
    }
    if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
    if (typeof v === "object") {
      return "{" + Object.keys(v).sort().map(function (k) {
        return JSON.stringify(k) + ":" + canonical(v[k]);
      }).join(",") + "}";
    }
    throw new Error("value");
  }

  function parseKey(text) {
    // name+hash+base64: the name holds no "+", but standard base64 may, so split twice only.
    var m = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(String(text));
    if (!m) throw new Error("key");
    var parts = [m[1], m[2], m[3]];
    var raw = unb64(parts[2]);
    if (raw.length !== 33 || raw[0] !== 1) throw new Error("key");
    return { name: parts[0], keyHash: parts[1], publicKey: raw.slice(1) };
  }

  function parseNote(note) {
    var split = note.lastIndexOf("\n\n");
    if (split < 0) throw new Error("note");
    var body = note.slice(0, split + 1);
    var lines = body.slice(0, -1).split("\n");
    if (lines.length < 3 || !/^(0|[1-9][0-9]*)$/.test(lines[1])) throw new Error("note");
    var sigs = note.slice(split + 2).replace(/\n$/, "").split("\n").map(function (line) {
      if (line.indexOf("\u2014 ") !== 0) throw new Error("note");
      var rest = line.slice(2), space = rest.indexOf(" ");
      return { name: rest.slice(0, space), raw: unb64(rest.slice(space + 1)) };
    });
    return { body: body, origin: lines[0], size: Number(lines[1]), root: unb64(lines[2]), sigs: sigs };
  }

  /* RFC 9162 2.1.3.2: the root from a leaf hash at index of a tree of size, and its audit path. */
  async function rootFromProof(index, size, leaf, path) {
    if (!(index < size)) return null;
    var fn = index, sn = size - 1, r = leaf, one = new Uint8Array([1]);
    for (var i = 0; i < path.length; i++) {
      var p = path[i];
      if (sn === 0) return null;
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(concat(one, p, r));
        if (fn % 2 === 0) { while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); } }
      } else {
        r = await sha256(concat(one, r, p));
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 ? r : null;
  }

  /* The record's four hashed fields, from a record as the API gives it (leaf_hash beside them
   * is left out) or null when it has any other field. */
  function hashedFields(record) {
    if (record === null || typeof record !== "object" || Array.isArray(record)) return null;
    var fields = {};
    var keys = Object.keys(record).filter(function (k) { return k !== "leaf_hash"; });
    if (keys.length !== RECORD_FIELDS.length) return null;
    for (var i = 0; i < RECORD_FIELDS.length; i++) {
      if (!(RECORD_FIELDS[i] in record)) return null;
      fields[RECORD_FIELDS[i]] = record[RECORD_FIELDS[i]];
    }
    if (!Number.isSafeInteger(fields.seq) || fields.seq < 0) return null;
    return fields;
  }

  /* Every step's outcome, [{ok, text}], for a record, its audit path (hex), a checkpoint note
   * and the operator's key. */
  async function check(record, proofHex, note, keyText) {
    var steps = [], key = null, cp = null, leaf = null;
    function step(ok, key2, value) { steps.push({ ok: ok, text: say(key2, value) }); return ok; }
    try { key = parseKey(keyText); } catch (e) { key = null; }
    if (key) {
      var kh = (await sha256(concat(enc.encode(key.name + "\n"), new Uint8Array([1]), key.publicKey))).slice(0, 4);
      if (hex(kh) !== key.keyHash) key = null;
    }
    step(key !== null, key ? "step.key_ok" : "step.key_bad", key ? key.name + "+" + key.keyHash : undefined);
    try { cp = parseNote(note); } catch (e) { cp = null; }
    if (!cp) {
      step(false, "step.note_bad");
    } else if (key) {
      var mine = cp.sigs.filter(function (s) { return s.name === key.name && hex(s.raw.slice(0, 4)) === key.keyHash; })[0];
      var valid = false;
      if (mine && mine.raw.length === 68) {
        var pk = await crypto.subtle.importKey("raw", key.publicKey, { name: "Ed25519" }, false, ["verify"]);
        valid = await crypto.subtle.verify({ name: "Ed25519" }, pk, mine.raw.slice(4), enc.encode(cp.body));
      }
      step(valid, valid ? "step.sig_ok" : "step.sig_bad", cp.size);
    }
    var fields = hashedFields(record);
    if (!fields) {
      step(false, "step.shape_bad");
    } else {
      try { leaf = await sha256(concat(new Uint8Array([0]), enc.encode(canonical(fields)))); } catch (e) { leaf = null; }
      if (!leaf) step(false, "step.shape_bad");
      else step(true, "step.leaf", hex(leaf));
    }
    if (leaf && cp) {
      var path = null;
      try { path = proofHex.map(unhex); } catch (e) { path = null; }
      var root = path && (await rootFromProof(fields.seq, cp.size, leaf, path));
      var same = !!root && equal(root, cp.root);
      step(same, same ? "step.root_ok" : "step.root_bad", fields.seq);
    }
    if (fields && cp) {
      var ledger = fields.entry && fields.entry.ledger;
      step(ledger === cp.origin, ledger === cp.origin ? "step.origin_ok" : "step.origin_bad", cp.origin);
    }
    return steps;
  }

  function show(steps) {
    var ok = steps.length > 0 && steps.every(function (s) { return s.ok; });
    var verdict = byId("verdict"), list = byId("steps");
    verdict.hidden = false;
    verdict.className = "verdict " + (ok ? "ok" : "bad");
    verdict.textContent = ok ? say("js.ok") : say("js.fail");
    list.textContent = "";
    steps.forEach(function (s) {
      var li = document.createElement("li");
      li.className = s.ok ? "ok" : "bad";
      li.textContent = (s.ok ? "✓ " : "✗ ") + s.text;
      list.appendChild(li);
    });
    document.documentElement.setAttribute("data-verdict", ok ? "verified" : "failed");
  }

  function fail(key) {
    show([{ ok: false, text: say(key) }]);
  }

  function cryptoMissing() {
    if (window.crypto && window.crypto.subtle) return false;
    fail("js.no_crypto");
    return true;
  }

  /* What the box holds: a record, or a document that carries one (a certificate's JSON:
   * {record, inclusion_proof, checkpoint}). */
  function parseBox(text) {
    var doc = JSON.parse(text);
    if (doc && typeof doc === "object" && doc.record && typeof doc.record === "object") return doc;
    return { record: doc };
  }

  async function fetchProof(seq, size) {
    var r = await fetch("/v1/proofs/inclusion?seq=" + encodeURIComponent(seq) + "&size=" + size,
      { headers: { Accept: "application/json" }, credentials: "omit" });
    if (!r.ok) return null;
    var body = await r.json();
    return Array.isArray(body.proof) ? body.proof : null;
  }

  async function run() {
    var evidence = readJSON("evidence"), box = byId("record");
    if (!evidence || !box) return;
    if (cryptoMissing()) return;
    byId("verdict").hidden = false;
    byId("verdict").className = "verdict";
    byId("verdict").textContent = say("js.checking");
    try {
      var doc;
      try { doc = parseBox(box.value); } catch (e) { fail("step.json_bad"); return; }
      var record = doc.record, proof = evidence.inclusion_proof, note = evidence.checkpoint.note;
      if (doc.inclusion_proof && doc.checkpoint && typeof doc.checkpoint.note === "string") {
        proof = doc.inclusion_proof; note = doc.checkpoint.note;  // the pasted document's own evidence
      } else if (!proof) {
        var fields = hashedFields(record), cp = null;
        try { cp = parseNote(note); } catch (e) { cp = null; }
        if (!fields) { fail("step.shape_bad"); return; }
        proof = cp && (await fetchProof(fields.seq, cp.size));
        if (!proof) { fail("step.fetch_bad"); return; }
      }
      show(await check(record, proof, note, evidence.operator_key));
    } catch (e) {
      fail(/Ed25519|NotSupported|Algorithm/i.test(String(e && (e.name + e.message))) ? "js.no_ed25519" : "js.error");
    }
  }

  window.addEventListener("DOMContentLoaded", function () {
    var button = byId("check");
    if (button) button.addEventListener("click", function (e) { e.preventDefault(); run(); });
    if (byId("record") && byId("record").value.trim() !== "") run();
  });
})();
