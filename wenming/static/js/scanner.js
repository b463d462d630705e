/* The door scanner (staff phones) and the print button of the on-site QR page.
   ES5 only, for old WeChat browsers. Nothing here is needed: without this
   script the short-code form posts as a plain form, and a phone's own
   camera opening a sign-up QR lands on /staff/scan/ and checks in.

   Where the browser has BarcodeDetector (feature-detected), the camera
   (getUserMedia) scans continuously; where it has BarcodeDetector but no
   camera access, a photo taken with the file input is decoded instead.
   A decoded QR fills the form's token and submits it (htmx swaps in the
   answer when loaded, else the page reloads with it). */
(function () {
  'use strict';

  var printButton = document.querySelector('[data-wm-print]');
  if (printButton && window.print) {
    printButton.hidden = false;
    printButton.addEventListener('click', function () { window.print(); });
  }

  var root = document.getElementById('wm-scanner');
  var form = document.getElementById('wm-scan-form');
  if (!root || !form) { return; }
  var code = form.elements.code;
  var token = form.elements.token;

  function submit() {
    if (form.requestSubmit) { form.requestSubmit(); } else if (window.htmx) { window.htmx.trigger(form, 'submit'); } else { form.submit(); }
  }

  // After each answer, clear the inputs for the next person and keep the focus on the code box.
  document.body.addEventListener('htmx:afterRequest', function (event) {
    if (event.target !== form) { return; }
    token.value = '';
    if (code) { code.value = ''; code.focus(); }
    var result = document.getElementById('wm-scan-result');
    var outcome = result && result.getAttribute('data-outcome');
    if (navigator.vibrate && outcome) { navigator.vibrate(outcome === 'ok' ? 120 : [80, 60, 80]); }
  });
  if (code) {
    code.addEventListener('input', function () { code.value = code.value.toUpperCase().replace(/\s+/g, ''); });
  }

  if (!('BarcodeDetector' in window)) { return; }
  var detector;
  try {
    detector = new window.BarcodeDetector({ formats: ['qr_code'] });
  } catch (e) {
    return;
  }

  var status = document.getElementById('wm-scan-status');
  var startButton = document.getElementById('wm-scan-start');
  var photoLabel = document.getElementById('wm-scan-photo-label');
  var photo = document.getElementById('wm-scan-photo');
  var video = document.getElementById('wm-scan-video');
  var box = video && video.parentNode;
  var lastValue = '';
  var lastAt = 0;
  var busy = false;

  function say(text) { status.textContent = text || ''; status.hidden = !text; }

  function found(value) {
    var now = Date.now();
    // The same code held in front of the camera is one scan, not one every frame.
    if (!value || (value === lastValue && now - lastAt < 4000)) { return; }
    lastValue = value;
    lastAt = now;
    token.value = value;
    if (code) { code.value = ''; }
    submit();
  }

  root.hidden = false;

  function showPhoto(message) {
    photoLabel.hidden = false;
    if (message) { say(message); }
  }

  photo.addEventListener('change', function () {
    var file = photo.files && photo.files[0];
    if (!file || !window.createImageBitmap) { return; }
    window.createImageBitmap(file).then(function (bitmap) {
      return detector.detect(bitmap);
    }).then(function (codes) {
      if (codes.length) { found(codes[0].rawValue); } else { say(root.getAttribute('data-not-found')); }
      photo.value = '';
    }, function () {
      say(root.getAttribute('data-not-found'));
      photo.value = '';
    });
  });

  var media = navigator.mediaDevices;
  if (!media || !media.getUserMedia) {
    showPhoto();
    return;
  }

  function tick() {
    if (busy || video.readyState < 2) { window.setTimeout(tick, 200); return; }
    busy = true;
    detector.detect(video).then(function (codes) {
      busy = false;
      if (codes.length) { found(codes[0].rawValue); }
      window.setTimeout(tick, 250);
    }, function () {
      busy = false;
      window.setTimeout(tick, 500);
    });
  }

  function start() {
    startButton.hidden = true;
    media.getUserMedia({ video: { facingMode: 'environment' }, audio: false }).then(function (stream) {
      video.srcObject = stream;
      box.hidden = false;
      say(root.getAttribute('data-scanning'));
      var playing = video.play();
      if (playing && playing.then) { playing.then(tick, tick); } else { tick(); }
    }, function () {
      showPhoto(root.getAttribute('data-no-camera'));
    });
  }

  startButton.hidden = false;
  startButton.addEventListener('click', start);
  showPhoto();
}());
