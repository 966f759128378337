// Confirmation dialogs: a form with data-confirm-modal="#id" submits only after the modal's OK.
document.addEventListener("click", function (event) {
  const opener = event.target.closest("[data-confirm-submit]");
  if (!opener) return;
  const form = document.getElementById(opener.dataset.confirmSubmit);
  if (form) form.submit();
});

// Copy buttons: data-copy-target="<input id>" copies that input's value.
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-copy-target]");
  if (!button) return;
  const input = document.getElementById(button.dataset.copyTarget);
  if (!input) return;
  input.select();
  if (navigator.clipboard) navigator.clipboard.writeText(input.value);
});
