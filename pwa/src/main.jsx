/** Entry point: styles and the app. The service worker is registered by registerSW.js. */
import { render } from 'preact';
import './styles/app.css';
import './styles/nurse.css';
import { App } from './App.jsx';

render(<App />, document.getElementById('app'));
