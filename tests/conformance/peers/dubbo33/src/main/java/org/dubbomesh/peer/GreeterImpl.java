package org.dubbomesh.peer;

import org.dubbomesh.peer.greeter.DubboGreeterTriple;
import org.dubbomesh.peer.greeter.GreetReply;
import org.dubbomesh.peer.greeter.GreetRequest;

/** The tri (gRPC-compatible) IDL service; answers with who served it. */
final class GreeterImpl extends DubboGreeterTriple.GreeterImplBase {
    private final String servedBy;

    GreeterImpl(String servedBy) {
        this.servedBy = servedBy;
    }

    @Override
    public GreetReply greet(GreetRequest request) {
        return GreetReply.newBuilder()
                .setMessage("hello " + request.getName())
                .setServedBy(servedBy)
                .build();
    }
}
