// SPDX-License-Identifier: Apache-2.0

/// The built-in page at `/`: a streaming chat playground and a live status panel (plain HTML/JS).
enum WebPage {
    static let html = #"""
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tern</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:0;display:flex;height:100vh;background:#f6f7f9;color:#1d2330}
main{flex:1;display:flex;flex-direction:column;padding:16px;min-width:0}
aside{width:260px;padding:16px;background:#fff;border-left:1px solid #dde1e6;font-size:14px}
h1{font-size:20px;margin:0 0 8px}#log{flex:1;overflow:auto;background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:12px}
.msg{margin:8px 0;white-space:pre-wrap}.user{color:#0b5cad}.assistant{color:#1d2330}.role{font-weight:600;margin-right:6px}
form{display:flex;gap:8px;margin-top:12px}textarea{flex:1;height:56px;font:inherit;padding:8px;border-radius:8px;border:1px solid #c5ccd4}
button{padding:0 18px;border-radius:8px;border:0;background:#0b5cad;color:#fff;font:inherit;cursor:pointer}button:disabled{opacity:.5}
dl{display:grid;grid-template-columns:auto auto;gap:4px 12px}dt{color:#5b6473}dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}
.bar{height:8px;background:#e6e9ee;border-radius:4px;overflow:hidden}.bar>div{height:100%;background:#2e8b57;width:0}
#controls{font-size:13px;color:#5b6473;margin-top:6px}
</style></head>
<body><main>
<h1>Tern <span id="model" style="font-weight:400;color:#5b6473;font-size:14px"></span></h1>
<div id="log"></div>
<form id="form"><textarea id="input" placeholder="Ask something..." required></textarea><button id="send">Send</button></form>
<div id="controls">temperature <input id="temp" type="number" min="0" max="2" step="0.1" value="0.7" style="width:60px">
 max tokens <input id="max" type="number" min="1" max="2048" value="256" style="width:70px">
 <button id="reset" type="button" style="padding:2px 10px;background:#5b6473">New chat</button></div>
</main>
<aside><h1>Status</h1><dl>
<dt>running</dt><dd id="s-running">-</dd><dt>waiting</dt><dd id="s-waiting">-</dd>
<dt>KV usage</dt><dd id="s-kv">-</dd><dt>tokens/s</dt><dd id="s-tps">-</dd>
<dt>generated</dt><dd id="s-gen">-</dd><dt>preemptions</dt><dd id="s-pre">-</dd></dl>
<div class="bar"><div id="kvbar"></div></div>
<div id="router" hidden><h1 style="margin-top:16px">Router</h1><div id="r-rate" style="color:#5b6473"></div>
<table id="r-tiers" style="width:100%;font-variant-numeric:tabular-nums;border-collapse:collapse"></table></div></aside>
<script>
const log=document.getElementById('log'),form=document.getElementById('form'),input=document.getElementById('input'),send=document.getElementById('send');
let history=[],model='';
function add(role,text){const d=document.createElement('div');d.className='msg '+role;d.innerHTML='<span class="role">'+role+'</span>';
 const t=document.createElement('span');t.className='text';t.textContent=text;d.appendChild(t);log.appendChild(d);log.scrollTop=log.scrollHeight;return t}
async function loadModel(){for(let i=0;i<50&&!model;i++){try{const r=await fetch('/v1/models');if(r.ok){const j=await r.json();model=j.data[0].id;document.getElementById('model').textContent=model}else{await new Promise(f=>setTimeout(f,200))}}catch(e){await new Promise(f=>setTimeout(f,200))}}}
form.addEventListener('submit',async e=>{e.preventDefault();const text=input.value.trim();if(!text)return;input.value='';send.disabled=true;
 history.push({role:'user',content:text});add('user',text);const out=add('assistant','');out.parentNode.id='reply-'+history.length;
 try{const r=await fetch('/v1/chat/completions',{method:'POST',headers:{'Content-Type':'application/json'},
  body:JSON.stringify({model,messages:history,stream:true,temperature:parseFloat(document.getElementById('temp').value),max_tokens:parseInt(document.getElementById('max').value)})});
  if(!r.ok){const j=await r.json();out.textContent='[error] '+j.error.message;return}
  const reader=r.body.getReader(),dec=new TextDecoder();let buf='',reply='';
  for(;;){const {value,done}=await reader.read();if(done)break;buf+=dec.decode(value,{stream:true});let i;
   while((i=buf.indexOf('\n\n'))>=0){const line=buf.slice(0,i);buf=buf.slice(i+2);if(!line.startsWith('data: '))continue;const data=line.slice(6);
    if(data==='[DONE]')continue;const j=JSON.parse(data);if(j.error){out.textContent+=' [error] '+j.error.message;continue}
    for(const c of j.choices){if(c.delta&&c.delta.content){reply+=c.delta.content;out.textContent=reply;log.scrollTop=log.scrollHeight}
     if(c.finish_reason){out.parentNode.dataset.finished=c.finish_reason}}}}
  history.push({role:'assistant',content:reply})}catch(err){out.textContent='[error] '+err}finally{send.disabled=false;input.focus()}});
input.addEventListener('keydown',e=>{if(e.key==='Enter'&&!e.shiftKey){e.preventDefault();form.requestSubmit()}});
document.getElementById('reset').onclick=()=>{history=[];log.innerHTML=''};
async function status(){try{const j=await (await fetch('/status')).json();
 document.getElementById('s-running').textContent=j.running;document.getElementById('s-waiting').textContent=j.waiting;
 document.getElementById('s-kv').textContent=(100*j.kv_usage).toFixed(1)+'%';document.getElementById('kvbar').style.width=(100*j.kv_usage)+'%';
 document.getElementById('s-tps').textContent=j.tokens_per_second.toFixed(1);document.getElementById('s-gen').textContent=j.generation_tokens_total;
 document.getElementById('s-pre').textContent=j.preemptions_total;
 if(j.router){const r=j.router;document.getElementById('router').hidden=false;
  document.getElementById('r-rate').textContent=r.arrivalRate.toFixed(2)+' req/s, dropped '+r.dropped+', unlabelled '+r.unlabeled;
  const t=document.getElementById('r-tiers');t.innerHTML='<tr><th align=left>tier</th><th>routed</th><th>now</th><th>on time</th></tr>';
  for(const x of r.tiers){const tr=document.createElement('tr');tr.className='tier';
   for(const v of [x.name,x.routed,x.inFlight,x.onTime]){const td=document.createElement('td');td.textContent=v;if(typeof v==='number')td.align='right';tr.appendChild(td)}
   t.appendChild(tr)}}}catch(e){}}
const params=new URLSearchParams(location.search);
loadModel().then(()=>{if(params.get('prompt')){input.value=params.get('prompt');if(params.get('send')==='1')form.requestSubmit()}});
status();setInterval(status,1000);
</script></body></html>
"""#
}
