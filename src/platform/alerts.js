// Desktop notifications, the favicon and a short tone: the browser side of
// src/platform/mod.rs's alert helpers. Every function degrades quietly where the
// browser lacks the API or refuses.

export function notification_permission() {
  return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
}

export function request_notifications(done) {
  if (typeof Notification === "undefined") {
    done("unsupported");
    return;
  }
  Notification.requestPermission().then(done, () => done("denied"));
}

export function show_notification(title, body, tag) {
  try {
    new Notification(title, { body, tag, renotify: true });
    return true;
  } catch (_) {
    return false;
  }
}

export function user_elsewhere() {
  return document.hidden || !document.hasFocus();
}

export function set_favicon(href) {
  let link = document.querySelector("link[rel~=icon]");
  if (link === null) {
    link = document.createElement("link");
    link.rel = "icon";
    document.head.appendChild(link);
  }
  if (link.getAttribute("href") !== href) {
    link.setAttribute("href", href);
  }
}

export function tone() {
  try {
    const context = new AudioContext();
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.frequency.value = 880;
    gain.gain.value = 0.08;
    oscillator.connect(gain).connect(context.destination);
    oscillator.onended = () => context.close();
    oscillator.start();
    oscillator.stop(context.currentTime + 0.25);
  } catch (_) {
    // No audio here: the notification and the badge still say it.
  }
}
