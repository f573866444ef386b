/** Entry point: styles and the app behind its lock (screens/Lock.jsx). The service worker is registered by registerSW.js. */
import { render } from 'preact';
import './styles/app.css';
import './styles/nurse.css';
import { App } from './App.jsx';
import { LockGate } from './screens/Lock.jsx';

render(<LockGate><App /></LockGate>, document.getElementById('app'));
