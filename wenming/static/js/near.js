/* "Near me": fill the coordinates from the phone's location and submit the
   form. ES5 only, for old WeChat browsers. Without this script the form
   still works: pick a station or type coordinates. */
(function () {
  var button = document.getElementById('wm-locate');
  var form = document.getElementById('wm-near-form');
  var status = document.getElementById('wm-locate-status');
  if (!button || !form || !navigator.geolocation) { return; }
  button.hidden = false;
  function say(text) { if (status) { status.textContent = text; status.hidden = !text; } }
  button.addEventListener('click', function () {
    say(button.getAttribute('data-locating'));
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (position) {
      button.disabled = false;
      say('');
      form.elements.lat.value = position.coords.latitude.toFixed(6);
      form.elements.lng.value = position.coords.longitude.toFixed(6);
      if (form.elements.station) { form.elements.station.value = ''; }
      if (window.htmx) { window.htmx.trigger(form, 'submit'); } else { form.submit(); }
    }, function () {
      button.disabled = false;
      say(button.getAttribute('data-failed'));
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
}());
