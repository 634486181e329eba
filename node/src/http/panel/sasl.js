// SASL for the panel's XMPP client: SCRAM-SHA-256 (RFC 7677) with WebCrypto where the browser
// offers it (secure contexts: https, or http on loopback), else PLAIN (RFC 4616), which the
// node offers on the WebSocket because the listener counts as encrypted (docs/PROTOCOL.md).

const enc = new TextEncoder();
const dec = new TextDecoder();

export function b64(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function unb64(text) {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The mechanism to use from those offered, best first. */
export function choose(offered) {
  if (globalThis.crypto && crypto.subtle && offered.includes("SCRAM-SHA-256")) return "SCRAM-SHA-256";
  if (offered.includes("PLAIN")) return "PLAIN";
  return null;
}

/** PLAIN: authzid empty, authcid the local part, the password; base64 of the UTF-8. */
export function plain(user, password) {
  return { initial: b64(enc.encode(`\0${user}\0${password}`)) };
}

/** RFC 5802 §5.1: "=" and "," in the user name are escaped. */
function saslName(user) {
  return user.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

async function hmac(key, data) {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, typeof data === "string" ? enc.encode(data) : data));
}

/**
 * SCRAM-SHA-256 without channel binding (the node does not see TLS in front of the WebSocket).
 * `initial` is the client-first message; `respond(challenge)` answers the server-first message;
 * `verify(success)` checks the server's signature in the outcome.
 */
export function scram(user, password) {
  const nonce = b64(crypto.getRandomValues(new Uint8Array(18)));
  const clientFirstBare = `n=${saslName(user)},r=${nonce}`;
  let serverSignature = null;
  return {
    initial: b64(enc.encode(`n,,${clientFirstBare}`)),
    async respond(challenge) {
      const serverFirst = dec.decode(unb64(challenge));
      const attrs = Object.fromEntries(serverFirst.split(",").map((a) => [a.slice(0, 1), a.slice(2)]));
      const iterations = Number.parseInt(attrs.i, 10);
      if (!attrs.r || !attrs.r.startsWith(nonce) || !attrs.s || !(iterations > 0)) {
        throw new Error("the server's SCRAM challenge is malformed");
      }
      const pw = await crypto.subtle.importKey("raw", enc.encode(password.normalize("NFKC")), "PBKDF2", false, ["deriveBits"]);
      const salted = new Uint8Array(await crypto.subtle.deriveBits(
        { name: "PBKDF2", hash: "SHA-256", salt: unb64(attrs.s), iterations }, pw, 256));
      const clientKey = await hmac(salted, "Client Key");
      const storedKey = new Uint8Array(await crypto.subtle.digest("SHA-256", clientKey));
      const finalBare = `c=biws,r=${attrs.r}`;
      const authMessage = `${clientFirstBare},${serverFirst},${finalBare}`;
      const signature = await hmac(storedKey, authMessage);
      const proof = clientKey.map((b, i) => b ^ signature[i]);
      serverSignature = b64(await hmac(await hmac(salted, "Server Key"), authMessage));
      return b64(enc.encode(`${finalBare},p=${b64(proof)}`));
    },
    verify(success) {
      const text = success ? dec.decode(unb64(success)) : "";
      if (text !== `v=${serverSignature}`) throw new Error("the server did not prove it knows the password");
    },
  };
}
