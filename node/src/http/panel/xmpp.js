// A small XMPP client over WebSocket (RFC 7395) for the panel: open/close framing, SASL
// (sasl.js), resource binding (RFC 6120 §7), iq round trips, and events for every presence,
// message and roster push it receives. One element per WebSocket message, each parsed alone.

import { choose, plain, scram } from "./sasl.js";

export const NS = {
  framing: "urn:ietf:params:xml:ns:xmpp-framing",
  sasl: "urn:ietf:params:xml:ns:xmpp-sasl",
  bind: "urn:ietf:params:xml:ns:xmpp-bind",
  client: "jabber:client",
  roster: "jabber:iq:roster",
  commands: "http://jabber.org/protocol/commands",
  data: "jabber:x:data",
  lampfield: "urn:lampfield:presence:0",
};

/** XML-escape text for an attribute value or element content. */
export function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]);
}

/** The first child element of `el` named `name` in namespace `ns` (any namespace if omitted). */
export function child(el, name, ns) {
  if (!el) return null;
  for (const c of el.children) {
    if (c.localName === name && (ns === undefined || c.namespaceURI === ns)) return c;
  }
  return null;
}

export function children(el, name, ns) {
  return el ? [...el.children].filter((c) => c.localName === name && (ns === undefined || c.namespaceURI === ns)) : [];
}

export function bare(jid) {
  return (jid || "").split("/")[0].toLowerCase();
}

export class XmppError extends Error {
  constructor(message, condition) {
    super(message);
    this.condition = condition;
  }
}

export class Client extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.jid = null;
    this.ws = null;
    this.waiters = [];
    this.pending = new Map();
    this.nextId = 1;
  }

  /** Connect, authenticate as `jid` with `password`, bind; resolves with the bound full JID. */
  async connect(jid, password) {
    const [local, domain] = bare(jid).split("@");
    if (!local || !domain) throw new XmppError("enter a JID like name@example.org");
    this.domain = domain;
    this.ws = new WebSocket(this.url, "xmpp");
    this.ws.addEventListener("message", (e) => this.receive(e.data));
    this.ws.addEventListener("close", () => this.closed());
    await new Promise((resolve, reject) => {
      this.ws.addEventListener("open", resolve, { once: true });
      this.ws.addEventListener("error", () => reject(new XmppError("cannot reach the node's WebSocket")), { once: true });
    });
    let features = await this.open();
    const offered = children(child(features, "mechanisms", NS.sasl), "mechanism").map((m) => m.textContent.trim());
    const mech = choose(offered);
    if (!mech) throw new XmppError(`no usable login mechanism (offered: ${offered.join(", ")})`);
    this.mechanism = mech;
    const auth = mech === "PLAIN" ? plain(local, password) : scram(local, password);
    this.raw(`<auth xmlns="${NS.sasl}" mechanism="${mech}">${auth.initial}</auth>`);
    let reply = await this.next((el) => el.namespaceURI === NS.sasl);
    while (reply.localName === "challenge") {
      this.raw(`<response xmlns="${NS.sasl}">${await auth.respond(reply.textContent.trim())}</response>`);
      reply = await this.next((el) => el.namespaceURI === NS.sasl);
    }
    if (reply.localName !== "success") {
      const why = reply.firstElementChild ? reply.firstElementChild.localName : "failure";
      throw new XmppError(why === "not-authorized" ? "wrong JID or password" : `login refused (${why})`, why);
    }
    if (auth.verify) auth.verify(reply.textContent.trim());
    features = await this.open();
    if (!child(features, "bind", NS.bind)) throw new XmppError("the node offered no resource binding");
    const resource = `panel-web-${Math.random().toString(36).slice(2, 8)}`;
    const bound = await this.iq("set", null, `<bind xmlns="${NS.bind}"><resource>${resource}</resource></bind>`);
    this.jid = child(child(bound, "bind", NS.bind), "jid").textContent.trim();
    return this.jid;
  }

  async open() {
    this.raw(`<open xmlns="${NS.framing}" to="${esc(this.domain)}" version="1.0"/>`);
    await this.next((el) => el.localName === "open" && el.namespaceURI === NS.framing);
    return this.next((el) => el.localName === "features");
  }

  /** Send one element, given as XML text. */
  raw(xml) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(xml);
  }

  /** An iq of `type` to `to` (the account itself if null) with `payload`; resolves with the result. */
  iq(type, to, payload, timeoutMs = 15000) {
    const id = `p${this.nextId++}`;
    const toAttr = to ? ` to="${esc(to)}"` : "";
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new XmppError("no answer from the node", "timeout"));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.raw(`<iq xmlns="${NS.client}" type="${type}" id="${id}"${toAttr}>${payload}</iq>`);
    });
  }

  close() {
    if (this.ws) {
      this.raw(`<close xmlns="${NS.framing}"/>`);
      this.ws.close();
    }
  }

  /** Resolves with the next element matching `pred` during negotiation. */
  next(pred) {
    return new Promise((resolve, reject) => this.waiters.push({ pred, resolve, reject }));
  }

  receive(text) {
    const doc = new DOMParser().parseFromString(text, "text/xml");
    const el = doc.documentElement;
    if (!el || el.localName === "parsererror" || doc.getElementsByTagName("parsererror").length) return;
    const waiter = this.waiters.findIndex((w) => w.pred(el));
    if (waiter >= 0) {
      this.waiters.splice(waiter, 1)[0].resolve(el);
      return;
    }
    switch (el.localName) {
      case "iq":
        return this.onIq(el);
      case "presence":
      case "message":
        return this.dispatchEvent(new CustomEvent(el.localName, { detail: el }));
      case "error":
      case "close":
        return this.fail(new XmppError(el.firstElementChild ? `stream closed: ${el.firstElementChild.localName}` : "stream closed"));
      default:
    }
  }

  onIq(el) {
    const type = el.getAttribute("type");
    const id = el.getAttribute("id");
    if (type === "result" || type === "error") {
      const waiting = this.pending.get(id);
      if (!waiting) return;
      this.pending.delete(id);
      clearTimeout(waiting.timer);
      if (type === "result") waiting.resolve(el);
      else {
        const cond = child(el, "error")?.firstElementChild?.localName || "error";
        waiting.reject(new XmppError(`the node refused: ${cond}`, cond));
      }
      return;
    }
    const query = child(el, "query", NS.roster);
    const from = el.getAttribute("from");
    if (type === "set" && query && (!from || bare(from) === bare(this.jid))) {
      // RFC 6121 §2.1.6: acknowledge the push, then apply it.
      this.raw(`<iq xmlns="${NS.client}" type="result" id="${esc(id)}"/>`);
      this.dispatchEvent(new CustomEvent("roster", { detail: query }));
      return;
    }
    // Anything else asked of a web page it cannot do.
    const to = from ? ` to="${esc(from)}"` : "";
    this.raw(`<iq xmlns="${NS.client}" type="error" id="${esc(id || "")}"${to}><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`);
  }

  fail(error) {
    for (const w of this.waiters.splice(0)) w.reject(error);
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.pending.clear();
    this.dispatchEvent(new CustomEvent("failed", { detail: error }));
  }

  closed() {
    this.fail(new XmppError("the connection to the node closed"));
    this.dispatchEvent(new Event("closed"));
  }
}

/** A data form (XEP-0004) as { title, fields: [{ var, type, label, value, options }] }. */
export function readForm(x) {
  if (!x) return null;
  return {
    title: child(x, "title")?.textContent || "",
    fields: children(x, "field").map((f) => ({
      var: f.getAttribute("var"),
      type: f.getAttribute("type") || "text-single",
      label: f.getAttribute("label") || "",
      value: children(f, "value").map((v) => v.textContent).join("\n"),
      options: children(f, "option").map((o) => ({ label: o.getAttribute("label") || child(o, "value")?.textContent, value: child(o, "value")?.textContent || "" })),
    })),
  };
}

/**
 * Run an ad-hoc command (XEP-0050) at the node: without `values` it returns the form the
 * command offers; with them it submits that form and returns { note, kind, form }.
 */
export async function command(client, node, values) {
  let payload;
  if (values) {
    const fields = Object.entries(values)
      .map(([k, v]) => `<field var="${esc(k)}"><value>${esc(v)}</value></field>`)
      .join("");
    payload = `<command xmlns="${NS.commands}" node="${esc(node)}" action="complete"><x xmlns="${NS.data}" type="submit">${fields}</x></command>`;
  } else {
    payload = `<command xmlns="${NS.commands}" node="${esc(node)}" action="execute"/>`;
  }
  const iq = await client.iq("set", client.domain, payload);
  const cmd = child(iq, "command", NS.commands);
  const note = child(cmd, "note");
  return {
    status: cmd?.getAttribute("status"),
    note: note?.textContent || "",
    kind: note?.getAttribute("type") || "info",
    form: readForm(child(cmd, "x", NS.data)),
  };
}
