// The user's own presence, through the node's ad-hoc commands (XEP-0050, docs/ACCESS.md and
// docs/PROFILES.md): "Set my presence" (state, note, minutes), "Switch presence profile",
// "Show who sees what" and "Set who sees what". The forms' choices come from the node.

import { command } from "./xmpp.js";

const PRESENCE = "lampfield:presence";
const PROFILE = "lampfield:profile";
const RULE = "lampfield:rule";
const RULES = "lampfield:rules";

function fillSelect(select, field) {
  if (!field || !field.options.length) return;
  select.replaceChildren(
    ...field.options.map((o) => {
      const opt = document.createElement("option");
      opt.value = o.value;
      opt.textContent = o.label || o.value;
      opt.selected = o.value === field.value;
      return opt;
    }),
  );
}

const field = (form, name) => form?.fields.find((f) => f.var === name);

export class Own {
  constructor(client, directory, ui) {
    this.client = client;
    this.directory = directory;
    this.ui = ui; // { presenceForm, profileForm, ruleForm, rulesList, output }
    ui.presenceForm.addEventListener("submit", (e) => { e.preventDefault(); this.setPresence(); });
    ui.profileForm.addEventListener("submit", (e) => { e.preventDefault(); this.switchProfile(); });
    ui.ruleForm.addEventListener("submit", (e) => { e.preventDefault(); this.setRule(); });
  }

  /** Load the forms' choices and the current rules. */
  async load() {
    const results = await Promise.allSettled([
      command(this.client, PRESENCE).then((r) => fillSelect(this.ui.presenceForm.elements.availability, field(r.form, "availability"))),
      this.loadProfiles(),
      command(this.client, RULE).then((r) => fillSelect(this.ui.ruleForm.elements.level, field(r.form, "level"))),
      this.loadRules(),
    ]);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) this.say(`Some settings could not be loaded: ${failed.reason.message}`, "error");
  }

  async loadProfiles() {
    const r = await command(this.client, PROFILE);
    fillSelect(this.ui.profileForm.elements.profile, field(r.form, "profile"));
  }

  async loadRules() {
    const r = await command(this.client, RULES);
    const lines = (r.form?.fields || []).filter((f) => f.type === "fixed").map((f) => f.value);
    this.ui.rulesList.replaceChildren(
      ...lines.map((t) => {
        const li = document.createElement("li");
        li.textContent = t;
        return li;
      }),
    );
    const who = this.ui.ruleForm.querySelector("datalist");
    if (who) {
      const groups = new Set(this.directory.jids().flatMap((j) => this.directory.colleague(j).groups));
      const choices = [...this.directory.jids().map((j) => `contact:${j}`), ...[...groups].map((g) => `group:${g}`), "default"];
      who.replaceChildren(...choices.map((c) => Object.assign(document.createElement("option"), { value: c })));
    }
  }

  async run(node, values, after) {
    try {
      const r = await command(this.client, node, values);
      this.say(r.note || "Done", r.kind === "error" ? "error" : "info");
      if (r.kind !== "error" && after) await after();
      return r.kind !== "error";
    } catch (e) {
      this.say(e.message, "error");
      return false;
    }
  }

  setPresence() {
    const f = this.ui.presenceForm.elements;
    return this.run(PRESENCE, { availability: f.availability.value, note: f.note.value, minutes: f.minutes.value });
  }

  switchProfile() {
    return this.run(PROFILE, { profile: this.ui.profileForm.elements.profile.value }, () => this.loadProfiles());
  }

  setRule() {
    const f = this.ui.ruleForm.elements;
    return this.run(RULE, { who: f.who.value.trim(), level: f.level.value }, () => this.loadRules());
  }

  say(text, kind) {
    this.ui.output.textContent = text;
    this.ui.output.dataset.kind = kind;
  }
}
