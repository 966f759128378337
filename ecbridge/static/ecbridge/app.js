// Confirmation dialogs: a form with data-confirm-modal="#id" submits only after the modal's OK.
document.addEventListener("click", function (event) {
  const opener = event.target.closest("[data-confirm-submit]");
  if (!opener) return;
  const form = document.getElementById(opener.dataset.confirmSubmit);
  if (form) form.submit();
});
