// parley's embeddable chat widget. One tag on any page,
//   <script src="https://chat.example.com/widget/embed.js" data-title="Help" async></script>
// adds a floating launcher button and, once it is clicked, the chat panel:
// an iframe of the widget page (/widget/) from the web API, so that the chat
// runs under the web API's origin and its Content-Security-Policy. The
// script builds everything through the DOM and CSSOM (no markup, no inline
// styles), so the host page's own CSP needs only to allow this script
// (script-src) and the frame (frame-src). The data- attributes are the
// settings of docs/widget.md; the web API's allowed-origins must name the
// host page's origin.
(() => {
  const me = document.currentScript;
  if (!me || window.parleyChat) return;
  const page = new URL("./", me.src);
  const d = me.dataset;
  const settings = ["service", "title", "color", "textColor", "fields", "rating", "sound"];
  const title = (d.title || "Chat with us").slice(0, 60);
  const color = /^#(?:[0-9a-fA-F]{3}){1,2}$/.test(d.color || "") ? d.color : "#0b57d0";
  const left = d.position === "left";
  const narrow = window.matchMedia("(max-width: 480px)");
  const hostTitle = () => document.title.replace(/^\(\d+\) /, "");

  const launcher = document.createElement("button");
  launcher.type = "button";
  launcher.id = "parley-launcher";
  launcher.setAttribute("aria-controls", "parley-chat");
  launcher.setAttribute("aria-expanded", "false");
  const icon = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("width", "28");
  icon.setAttribute("height", "28");
  icon.setAttribute("aria-hidden", "true");
  const bubble = document.createElementNS("http://www.w3.org/2000/svg", "path");
  bubble.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H10l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  bubble.setAttribute("fill", "currentColor");
  icon.append(bubble);
  const badge = document.createElement("span");
  badge.id = "parley-unread";
  badge.setAttribute("aria-hidden", "true");
  launcher.append(icon, badge);
  const side = left ? "left" : "right";
  Object.assign(launcher.style, {
    position: "fixed", bottom: "20px", [side]: "20px", zIndex: "2147483000", width: "60px", height: "60px",
    borderRadius: "50%", border: "0", padding: "0", cursor: "pointer", background: color,
    color: "#ffffff", boxShadow: "0 4px 14px rgba(0,0,0,.3)", display: "flex", alignItems: "center", justifyContent: "center",
  });
  Object.assign(badge.style, {
    position: "absolute", top: "-4px", [left ? "right" : "left"]: "-4px", minWidth: "22px", height: "22px",
    borderRadius: "11px", background: "#a4161a", color: "#ffffff", font: "700 13px/22px system-ui, sans-serif",
    textAlign: "center", padding: "0 5px", display: "none",
  });

  const frame = document.createElement("iframe");
  frame.id = "parley-chat";
  frame.title = title;
  frame.setAttribute("allow", "autoplay");
  frame.style.display = "none";
  frame.style.border = "0";
  frame.style.zIndex = "2147483001";
  frame.style.background = "#ffffff";
  frame.style.position = "fixed";

  // place lays the panel out: a floating card beside the launcher, or the
  // whole screen on a phone (the launcher is then hidden while it is open).
  const place = () => {
    const full = narrow.matches;
    Object.assign(frame.style, full
      ? { top: "0", bottom: "0", left: "0", right: "0", width: "100%", height: "100%", borderRadius: "0", boxShadow: "none" }
      : { top: "auto", bottom: "92px", left: left ? "20px" : "auto", right: left ? "auto" : "20px", width: "380px",
        height: "min(640px, calc(100vh - 112px))", borderRadius: "12px", boxShadow: "0 8px 28px rgba(0,0,0,.3)" });
    launcher.style.display = full && open ? "none" : "flex";
  };

  let open = false;
  let unread = 0;
  const label = () => {
    launcher.setAttribute("aria-label", unread > 0 ? `${title}: ${unread} unread` : (open ? `Close ${title}` : title));
    badge.textContent = String(unread);
    badge.style.display = unread > 0 ? "block" : "none";
    document.title = unread > 0 ? `(${unread}) ${hostTitle()}` : hostTitle();
  };
  const tell = () => {
    if (frame.contentWindow && frame.src) frame.contentWindow.postMessage({ parley: "shown", shown: open && !document.hidden }, page.origin);
  };
  const toggle = (want) => {
    open = want;
    if (open && !frame.src) {
      const q = new URLSearchParams({ embed: "1", host: location.origin });
      for (const k of settings) if (d[k]) q.set(k, d[k]);
      frame.src = `${page.href}?${q}`;
    }
    frame.style.display = open ? "block" : "none";
    launcher.setAttribute("aria-expanded", String(open));
    place();
    label();
    tell();
    if (open) frame.focus();
    else launcher.focus();
  };

  launcher.addEventListener("click", () => toggle(!open));
  narrow.addEventListener("change", place);
  document.addEventListener("visibilitychange", tell);
  window.addEventListener("message", (ev) => {
    if (ev.source !== frame.contentWindow || ev.origin !== page.origin || !ev.data) return;
    if (ev.data.parley === "unread") {
      unread = Math.max(0, Number(ev.data.count) || 0);
      label();
    } else if (ev.data.parley === "minimize" && open) {
      toggle(false);
    }
  });
  frame.addEventListener("load", tell);

  const mount = () => {
    document.body.append(frame, launcher);
    place();
    label();
    if (d.open === "on") toggle(true);
  };
  window.parleyChat = { open: () => toggle(true), close: () => toggle(false) };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
