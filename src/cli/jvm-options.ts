/** Options of the Java launcher that Flume's command line and flume-env.sh pass to the JVM; flume-ts ignores them. */
const JVM_OPTION =
  /^-(?:X|verbose(?::|$)|javaagent:|agentlib:|agentpath:|server$|client$|d32$|d64$|ea(?::|$)|da(?::|$)|esa$|dsa$|enableassertions|disableassertions|enablesystemassertions$|disablesystemassertions$|showversion$|splash:)/;

/** True for `-Xmx1g`, `-XX:+UseG1GC`, `-verbose:gc`, `-javaagent:x.jar`, `-server`, `-ea`, ... */
export function isJvmOption(arg: string): boolean {
  return JVM_OPTION.test(arg);
}

export const JVM_HINT = 'the Node.js heap is set with NODE_OPTIONS=--max-old-space-size=<MiB>';
