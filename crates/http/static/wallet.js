// Progressive enhancement of the wallet step (/onboarding/wallet). Without JavaScript, or
// without a wallet in the browser, the forms work as they are: type the address, copy the
// message into a wallet, paste the signature. With an EIP-1193 provider (window.ethereum):
// "Use my browser wallet" asks it for the account and chain and fills in the first form;
// "Sign with my browser wallet" asks it to personal_sign the exact message shown and fills in
// the signature. The server checks everything either way; this file only saves typing.
(function () {
  "use strict";

  // EIP-155 chain ids (hex, as eth_chainId answers) of the chains the form offers.
  var CHAINS = { "0x1": "ethereum", "0x64": "gnosis", "0x89": "polygon" };

  function status(text) {
    var line = document.getElementById("wallet-status");
    if (line) {
      line.textContent = text;
    }
  }

  function failed(error) {
    var reason = error && error.message ? error.message : String(error);
    status("The wallet did not answer: " + reason + ". You can still fill in the form by hand.");
  }

  // personal_sign takes the message as hex of its UTF-8 bytes.
  function hex(text) {
    var bytes = new TextEncoder().encode(text);
    var out = "0x";
    for (var i = 0; i < bytes.length; i += 1) {
      out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    }
    return out;
  }

  function connect(ethereum, button) {
    var form = button.form;
    status("Asking your wallet for its address…");
    ethereum.request({ method: "eth_requestAccounts" }).then(function (accounts) {
      if (!accounts || !accounts.length) {
        throw new Error("no account was shared");
      }
      form.elements.address.value = accounts[0];
      return ethereum.request({ method: "eth_chainId" });
    }).then(function (chainId) {
      var chain = CHAINS[String(chainId).toLowerCase()];
      if (chain) {
        form.elements.chain.value = chain;
      }
      status("");
      form.requestSubmit();
    }).catch(failed);
  }

  function sign(ethereum, button) {
    var form = button.form;
    var message = form.elements.message.value;
    status("Asking your wallet to sign the message…");
    ethereum.request({
      method: "personal_sign",
      params: [hex(message), button.getAttribute("data-address")]
    }).then(function (signature) {
      form.elements.signature.value = signature;
      status("");
      form.requestSubmit();
    }).catch(failed);
  }

  function enhance() {
    var ethereum = window.ethereum;
    if (!ethereum || typeof ethereum.request !== "function") {
      return false;
    }
    [["wallet-connect", connect], ["wallet-sign", sign]].forEach(function (pair) {
      var button = document.getElementById(pair[0]);
      if (button && button.hidden) {
        button.hidden = false;
        button.addEventListener("click", function () { pair[1](ethereum, button); });
      }
    });
    return true;
  }

  function start() {
    // Some wallets inject their provider after the page loaded, then announce it with this
    // event (as MetaMask's detect-provider expects).
    if (!enhance()) {
      window.addEventListener("ethereum#initialized", enhance, { once: true });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
