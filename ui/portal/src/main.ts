import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { boot } from "./lib/flow.svelte";

const target = document.getElementById("app");
if (target) {
  mount(App, { target });
  void boot();
}
