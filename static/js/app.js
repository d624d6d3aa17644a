// Tell the server the agent's time zone, so dates show in local time.
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && document.cookie.indexOf("agent_tz=" + encodeURIComponent(zone)) === -1) {
    document.cookie = "agent_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
  }
})();
